import { InvalidArgumentError } from 'commander';
import { usageError } from './client.js';

/** Words that need no quoting in any of the shells muster runs. */
const PLAIN_WORD = /^[\w@%+=:,./-]+$/;

/** Single-quotes a word for a POSIX shell unless it is plain. */
export function shellQuote(word: string): string {
  return PLAIN_WORD.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Joins the words after `--` into one shell command line. One word is taken
 * as-is (`-- 'echo $HOME'`); with several, words holding shell-special
 * characters are single-quoted so `-- echo "a b"` prints `a b`.
 */
export function commandLine(words: readonly string[]): string {
  if (words.length === 1) return words[0]!;
  return words.map(shellQuote).join(' ');
}

/** Parses repeated `--env NAME=VALUE` values; a pair without a valid name is a usage error. */
export function parseEnvPairs(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    const name = i > 0 ? pair.slice(0, i) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw usageError(`--env ${JSON.stringify(pair)}: expected NAME=VALUE with NAME like MY_VAR`);
    env[name] = pair.slice(i + 1);
  }
  return env;
}

/** commander parser for repeatable options. */
export function collect(value: string, all: string[]): string[] {
  return [...all, value];
}

/** commander parser for a whole number of seconds (1 or more); anything else is a usage error. */
export function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return Number(value);
}

/** commander parser for a count (`0`, `5`) or a percentage (`10%`), as the API takes them. */
export function countOrPercent(value: string): number | string {
  if (/^\d+(\.\d+)?%$/.test(value)) return value;
  if (/^\d+$/.test(value)) return Number(value);
  throw new InvalidArgumentError('expected a count like 5 or a percentage like 10%');
}
