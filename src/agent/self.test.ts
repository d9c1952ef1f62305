import { mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-file.js';
import { setBody } from './self-commands.js';
import { ensureCompatLink, migrateIdentityFile, SYSTEM_KEY_REGEX } from './state.js';

describe('agent state for the System Context script', () => {
  it('rewrites an agent.conf the reference regex cannot read, keeping its values, and links jcagent.conf', () => {
    const dir = mkdtempSync(join(tmpdir(), 'muster-state-'));
    writeFileSync(join(dir, 'agent.conf'), JSON.stringify({ systemKey: 'abc123', server: 'http://x', organizationId: 'o' }, null, 2));
    const write = (path: string, content: string) => writeFileAtomic(path, content);
    expect(migrateIdentityFile(dir, write)).toBe(true);
    const text = readFileSync(join(dir, 'agent.conf'), 'utf8');
    expect(SYSTEM_KEY_REGEX.exec(text)?.[1]).toBe('abc123');
    expect(JSON.parse(text)).toEqual({ systemKey: 'abc123', server: 'http://x', organizationId: 'o' });
    expect(migrateIdentityFile(dir, write)).toBe(false);
    ensureCompatLink(dir);
    expect(readlinkSync(join(dir, 'jcagent.conf'))).toBe('agent.conf');
  });

  it('leaves a damaged agent.conf for loadIdentity to report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'muster-state-'));
    writeFileSync(join(dir, 'agent.conf'), '{not json');
    expect(migrateIdentityFile(dir, () => expect.fail('must not write'))).toBe(false);
  });

  it('turns `self set` flags into a JumpCloud PUT body', () => {
    expect(setBody({ displayName: 'web-7', tag: ['a', 'b'], attribute: ['rack=r7', 'x=1=2'] })).toEqual({
      displayName: 'web-7',
      tags: ['a', 'b'],
      attributes: { rack: 'r7', x: '1=2' },
    });
    expect(setBody({ tag: [], attribute: [] })).toEqual({});
  });
});
