import { RE2JS } from 're2js';

/**
 * Regular expressions that callers supply (fact selectors, PuppetDB `~`)
 * run in RE2's linear-time engine: a pattern such as `^(.*?.*?)*X$`, which
 * holds a backtracking engine for minutes on a 30-character value, matches in
 * about 1 ms over 100,000 characters here. RE2 has no lookaround and no
 * backreferences, and the few forms the two engines read differently are
 * refused, so a pattern means the same on SQLite (evaluated here) and on
 * PostgreSQL (whose engine accepts a superset of what is left).
 */

/** The longest pattern accepted, in characters. */
export const MAX_REGEX_LENGTH = 1024;

export interface SafeRegex {
  /** True when the pattern matches anywhere in the value (unanchored, like `~`). */
  test(value: string): boolean;
}

/**
 * Escapes that RE2 and PostgreSQL's engine read differently, or that one of
 * them lacks, with what to write instead: a pattern must mean the same on
 * either database.
 */
const UNPORTABLE_ESCAPES: Record<string, string> = {
  b: 'a word boundary to RE2 but a backspace to PostgreSQL: use [^A-Za-z0-9_] or anchors',
  B: 'a non-boundary to RE2 but a backslash to PostgreSQL',
  z: 'not understood by PostgreSQL: use $',
  Z: 'not understood by RE2: use $',
  p: 'a Unicode class, which PostgreSQL does not have',
  P: 'a Unicode class, which PostgreSQL does not have',
  Q: 'quoting, which PostgreSQL does not have: escape each character instead',
  E: 'quoting, which PostgreSQL does not have: escape each character instead',
  C: 'not understood by PostgreSQL',
  y: 'a word boundary to PostgreSQL only',
  Y: 'a non-boundary to PostgreSQL only',
  m: 'a word start to PostgreSQL only',
  M: 'a word end to PostgreSQL only',
};

/**
 * Why `pattern` would not mean the same on SQLite (RE2) and PostgreSQL, or
 * undefined. It walks the pattern once, skipping escaped characters, so a
 * literal `\\b` (an escaped backslash then `b`) is fine.
 */
function portabilityProblem(pattern: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      const why = UNPORTABLE_ESCAPES[next];
      if (why) return `\\${next} is ${why}`;
      if (next === 'x' && pattern[i + 2] === '{') return '\\x{…} is not understood by PostgreSQL: use \\xHH';
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++; // a leading ] is a literal
    } else if (c === '(' && pattern[i + 1] === '?') {
      if (/^\(\?P?</.test(pattern.slice(i))) return 'named groups are not supported in regular expressions';
      const leadingCaseless = i === 0 && pattern.startsWith('(?i)');
      if (!leadingCaseless && /^\(\?[A-Za-z]*(?:-[A-Za-z]*)?[:)]/.test(pattern.slice(i)) && pattern[i + 2] !== ':') {
        return 'flag groups are read differently by the two engines: only a leading (?i) is accepted';
      }
    }
  }
  return undefined;
}

/**
 * Checks a caller's pattern and returns why it is refused, or undefined when
 * it is accepted: too long, not RE2 syntax, or a form that would not mean the
 * same on PostgreSQL (named groups, flag groups past a leading (?i), \b,
 * \z, \p{…}, …).
 */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_REGEX_LENGTH) return `a regular expression may be at most ${MAX_REGEX_LENGTH} characters`;
  try {
    RE2JS.compile(pattern);
  } catch (err) {
    return `invalid regular expression: ${(err as Error).message.replace(/^error parsing regexp: /, '')}`;
  }
  return portabilityProblem(pattern);
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
