import { describe, expect, it } from 'vitest';
import { parseSelector } from './parse.js';

describe('parseSelector', () => {
  it('parses terms, and/or/not with precedence, and parentheses', () => {
    expect(parseSelector('tag:web and not hostname:canary or group:prod')).toEqual({
      kind: 'or',
      items: [
        {
          kind: 'and',
          items: [
            { kind: 'term', key: 'tag', value: 'web' },
            { kind: 'not', item: { kind: 'term', key: 'hostname', value: 'canary' } },
          ],
        },
        { kind: 'term', key: 'group', value: 'prod' },
      ],
    });
    expect(parseSelector('tag:a and (ip:10.10 OR comments:"in maintenance")')).toEqual({
      kind: 'and',
      items: [
        { kind: 'term', key: 'tag', value: 'a' },
        {
          kind: 'or',
          items: [
            { kind: 'term', key: 'ip', value: '10.10' },
            { kind: 'term', key: 'comments', value: 'in maintenance' },
          ],
        },
      ],
    });
    expect(parseSelector('*')).toEqual({ kind: 'all' });
  });

  it('reads a quoted value whole, so tags with spaces, quotes and any script can be selected', () => {
    expect(parseSelector('tag:"stopped servers"')).toEqual({ kind: 'term', key: 'tag', value: 'stopped servers' });
    expect(parseSelector('tag:"say \\"hi\\" (now)" and not tag:"服务器 ✓"')).toEqual({
      kind: 'and',
      items: [
        { kind: 'term', key: 'tag', value: 'say "hi" (now)' },
        { kind: 'not', item: { kind: 'term', key: 'tag', value: '服务器 ✓' } },
      ],
    });
    // Unquoted, a space ends the value and the rest must be a term.
    expect(() => parseSelector('tag:stopped servers')).toThrow(/expected a term like tag:web, found "servers"/);
  });

  it('parses fact terms with =, != and ~', () => {
    expect(parseSelector('fact:os.family=Debian')).toEqual({ kind: 'fact', path: 'os.family', op: '=', value: 'Debian' });
    expect(parseSelector('fact:kernel!=5')).toMatchObject({ op: '!=', path: 'kernel', value: '5' });
    expect(parseSelector('fact:"os.name~^Deb"')).toMatchObject({ op: '~', path: 'os.name', value: '^Deb' });
  });

  it('names the position of syntax errors', () => {
    const cases: Array<[string, RegExp]> = [
      ['tag:web and', /ended at position 12/],
      ['tag:web hostname:x', /expected "and" or "or" at position 9/],
      ['(tag:web', /expected "\)" at position 9/],
      ['tag:web)', /unbalanced "\)" at position 8/],
      ['colour:red', /unknown term colour: .* at position 1/],
      ['web', /expected a term like tag:web, found "web" at position 1/],
      ['tag:', /tag: needs a value at position 1/],
      ['comments:"open', /unterminated quoted value at position 10/],
      ['tag:a and $', /unexpected character "\$" at position 11/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseSelector(text), text).toThrow(message);
    }
    expect(() => parseSelector('')).toThrow(/non-empty/);
    expect(() => parseSelector('not '.repeat(100) + 'tag:a')).toThrow(/nested too deeply/);
  });

  it('parses fact terms over structured paths and checks their regexes', () => {
    expect(parseSelector('fact:os.family=Debian')).toEqual({ kind: 'fact', path: 'os.family', op: '=', value: 'Debian' });
    expect(parseSelector('fact:os.release.major!=12')).toEqual({ kind: 'fact', path: 'os.release.major', op: '!=', value: '12' });
    expect(parseSelector('fact:kernelrelease~^6\\.1')).toEqual({ kind: 'fact', path: 'kernelrelease', op: '~', value: '^6\\.1' });
    expect(() => parseSelector('fact:os..family=x')).toThrow(/empty part/);
    expect(() => parseSelector('fact:os.family~[')).toThrow(/invalid regular expression/);
    expect(() => parseSelector('fact:"os.family~(?<n>x)"')).toThrow(/named groups/);
    expect(parseSelector('fact:"os.name~^(Debian|Ubuntu)$"')).toMatchObject({ op: '~', value: '^(Debian|Ubuntu)$' });
  });
});
