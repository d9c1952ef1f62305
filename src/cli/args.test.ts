import { execFileSync } from 'node:child_process';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandLine, countOrPercent, parseEnvPairs, positiveInteger, shellQuote } from './args.js';
import { CliError } from './client.js';

describe('commandLine', () => {
  it('takes a single word as the whole command line', () => {
    expect(commandLine(['echo $HOME; exit 3'])).toBe('echo $HOME; exit 3');
    expect(commandLine(['a b'])).toBe('a b');
  });

  it('joins plain words as they are', () => {
    expect(commandLine(['uname', '-a'])).toBe('uname -a');
    expect(commandLine(['ls', '-l', '/var/log', 'a=b', 'user@host:22', '50%', 'x,y'])).toBe('ls -l /var/log a=b user@host:22 50% x,y');
  });

  it('quotes words with shell-special characters', () => {
    expect(commandLine(['echo', 'a b', "it's", '-n'])).toBe(`echo 'a b' 'it'\\''s' -n`);
    expect(commandLine(['echo', '$HOME', '*', 'a;b', '', 'é'])).toBe(`echo '$HOME' '*' 'a;b' '' 'é'`);
  });

  it('gives a real shell back the words it was given', () => {
    const words = ['printf', '%s|', 'a b', "it's", '$HOME', '"q"', 'back\\slash', '*', '', 'new\nline'];
    expect(execFileSync('sh', ['-c', commandLine(words)], { encoding: 'utf8' })).toBe(`${words.slice(2).join('|')}|`);
  });

  it('quotes one word for display', () => {
    expect(shellQuote('./bin/muster.js')).toBe('./bin/muster.js');
    expect(shellQuote('my data/key')).toBe(`'my data/key'`);
  });
});

describe('parseEnvPairs', () => {
  it('parses NAME=VALUE, keeping = in values and empty values', () => {
    expect(parseEnvPairs(['A=1', 'B=x=y', 'C=', '_D9=a b'])).toEqual({ A: '1', B: 'x=y', C: '', _D9: 'a b' });
    expect(parseEnvPairs([])).toEqual({});
  });

  it('makes a bad pair a usage error (exit 2) naming it', () => {
    for (const bad of ['=1', 'novalue', '1A=x', 'A-B=x', '']) {
      let caught: unknown;
      try {
        parseEnvPairs(['OK=1', bad]);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(CliError);
      expect((caught as CliError).exitCode).toBe(2);
      expect((caught as CliError).message).toContain(`--env ${JSON.stringify(bad)}: expected NAME=VALUE`);
    }
  });
});

describe('number options', () => {
  it('takes whole numbers of 1 or more for seconds', () => {
    expect(positiveInteger('30')).toBe(30);
    for (const bad of ['0', '-1', '1.5', 'abc', '']) expect(() => positiveInteger(bad)).toThrow(InvalidArgumentError);
  });

  it('takes counts or percentages for rate control', () => {
    expect(countOrPercent('0')).toBe(0);
    expect(countOrPercent('5')).toBe(5);
    expect(countOrPercent('12.5%')).toBe('12.5%');
    for (const bad of ['x', '-1', '5%%', '%']) expect(() => countOrPercent(bad)).toThrow(InvalidArgumentError);
  });
});
