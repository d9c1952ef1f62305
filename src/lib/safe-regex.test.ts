import { describe, expect, it } from 'vitest';
import { compileSafeRegex, MAX_REGEX_LENGTH, regexProblem } from './safe-regex.js';

describe('regexProblem', () => {
  it('accepts the patterns selectors and PuppetDB queries use', () => {
    for (const ok of ['^web-\\d+$', 'kernel', '^(a|b)+$', '[A-Za-z_]+', '(?i)^ubuntu', '\\x41', '\\\\b', '[\\]a]', '(?:ab)+', '\\Aweb']) {
      expect(regexProblem(ok), ok).toBeUndefined();
    }
  });

  it('refuses what RE2 cannot run, naming why', () => {
    expect(regexProblem('(a')).toMatch(/^invalid regular expression: missing closing \)/);
    expect(regexProblem('(?=a)b')).toMatch(/^invalid regular expression/);
    expect(regexProblem('(a)\\1')).toMatch(/^invalid regular expression/);
    expect(regexProblem('a'.repeat(MAX_REGEX_LENGTH + 1))).toBe(`a regular expression may be at most ${MAX_REGEX_LENGTH} characters`);
  });

  it('refuses forms that would not mean the same on PostgreSQL, saying what to write instead', () => {
    expect(regexProblem('\\bweb\\b')).toMatch(/^\\b is a word boundary to RE2 but a backspace to PostgreSQL/);
    expect(regexProblem('web\\z')).toBe('\\z is not understood by PostgreSQL: use $');
    expect(regexProblem('\\pL+')).toMatch(/^\\p is a Unicode class/);
    expect(regexProblem('\\Qa.b\\E')).toMatch(/^\\Q is quoting/);
    expect(regexProblem('\\x{41}')).toBe('\\x{…} is not understood by PostgreSQL: use \\xHH');
    expect(regexProblem('a(?i)b')).toMatch(/^flag groups are read differently/);
    expect(regexProblem('(?U)a+')).toMatch(/^flag groups/);
    expect(regexProblem('(?i:a)b')).toMatch(/^flag groups/);
    expect(regexProblem('(?P<n>a)')).toBe('named groups are not supported in regular expressions');
    expect(regexProblem('(?<n>a)')).toBe('named groups are not supported in regular expressions');
  });
});

describe('compileSafeRegex', () => {
  it('matches unanchored, like ~, and in linear time on a pattern that backtracking engines take minutes over', () => {
    expect(compileSafeRegex('b+')!.test('abbbc')).toBe(true);
    expect(compileSafeRegex('^b')!.test('abc')).toBe(false);
    expect(compileSafeRegex('^(.*?.*?)*X$')!.test('a'.repeat(100_000))).toBe(false);
    expect(compileSafeRegex('\\bx')).toBeNull();
  });
});
