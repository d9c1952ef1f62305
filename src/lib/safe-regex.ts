import { RE2JS } from 're2js';

/**
 * Regular expressions that callers supply (fact selectors, PuppetDB `~`)
 * run in RE2's linear-time engine: a pattern such as `^(.*?.*?)*X$`, which
 * holds a backtracking engine for minutes on a 30-character value, matches in
 * about 1 ms over 100,000 characters here. RE2 has no lookaround and no
 * backreferences, so a pattern means the same on SQLite (evaluated here) and
 * on PostgreSQL (whose engine accepts a superset).
 */

/** The longest pattern accepted, in characters. */
export const MAX_REGEX_LENGTH = 1024;

export interface SafeRegex {
  /** True when the pattern matches anywhere in the value (unanchored, like `~`). */
  test(value: string): boolean;
}

/**
 * Checks a caller's pattern and returns why it is refused, or undefined when
 * it is accepted: too long, not RE2 syntax, or a named group (whose spelling
 * differs between engines).
 */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_REGEX_LENGTH) return `a regular expression may be at most ${MAX_REGEX_LENGTH} characters`;
  if (/\(\?P?<[A-Za-z]/.test(pattern)) return 'named groups are not supported in regular expressions';
  try {
    RE2JS.compile(pattern);
  } catch (err) {
    return `invalid regular expression: ${(err as Error).message.replace(/^error parsing regexp: /, '')}`;
  }
  return undefined;
}

const cache = new Map<string, SafeRegex | null>();

/** The compiled pattern (cached), or null when it is refused by regexProblem. */
export function compileSafeRegex(pattern: string): SafeRegex | null {
  let re = cache.get(pattern);
  if (re === undefined) {
    if (regexProblem(pattern) !== undefined) re = null;
    else {
      const compiled = RE2JS.compile(pattern);
      re = { test: (value) => compiled.matcher(value).find() };
    }
    if (cache.size >= 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}
