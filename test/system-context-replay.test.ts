import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceScript } from './fixtures/system-context-reference.js';
import { DATABASES } from './support/databases.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { enrollSystem, type SignedSystem } from './support/system-context.js';

/**
 * Replay protection against the reference script, which signs only
 * `request-line date`: its RSA signature depends on the method, the path and
 * the second, so two different changes to one path within a second carry the
 * same signature. The script runs unchanged, with `date` pinned to one second
 * (a `date` earlier on its PATH), so "within one second" is certain rather
 * than a race against the clock.
 */
describe.each(DATABASES)('System Context replays with the reference script on $name', ({ name, skip }) => {
  let s: TestServer;
  let me: SignedSystem;
  let stateDir: string;
  let binDir: string;
  let groupId: string;

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    me = await enrollSystem(s.url, s.enrollmentKey, 'replay-1');
    groupId = (await call(s.url, s.adminKey, 'POST', '/v1/groups', { name: 'replay-group' })).body.id;
    // What the script reads from /opt/jc: the key (PKCS#1 PEM) and the conf with systemKey.
    stateDir = mkdtempSync(join(tmpdir(), 'muster-replay-state-'));
    writeFileSync(join(stateDir, 'client.key'), me.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(stateDir, 'jcagent.conf'), JSON.stringify({ systemKey: me.systemId }));
    binDir = mkdtempSync(join(tmpdir(), 'muster-replay-bin-'));
    writeFileSync(join(binDir, 'date'), '#!/bin/sh\nprintf "%s\\n" "$PINNED_DATE"\n');
    chmodSync(join(binDir, 'date'), 0o755);
  });
  afterAll(async () => {
    await s?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    if (binDir) rmSync(binDir, { recursive: true, force: true });
  });

  /** Runs the reference script at the pinned second and parses curl -i's answer. */
  async function reference(second: string, method: string, path: string, body?: string): Promise<{ status: number; body: any }> {
    const script = referenceScript(stateDir, s.url, method, path, body);
    const { stdout } = await promisify(execFile)('bash', ['-c', script], {
      env: { ...process.env, LC_ALL: 'C', PATH: `${binDir}:${process.env.PATH}`, PINNED_DATE: second },
    });
    const [head = '', ...rest] = stdout.split(/\r?\n\r?\n/);
    const text = rest.join('\n\n');
    return { status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1]), body: text ? JSON.parse(text) : undefined };
  }

  const own = '/api/systems/${systemKey}';
  const displayName = async () => (await call(s.url, s.adminKey, 'GET', `/v1/systems/${me.systemId}`)).body.display_name;

  it.skipIf(skip)('two different changes to one path in the same second both apply', async () => {
    const second = new Date().toUTCString();
    const first = await reference(second, 'PUT', own, '{"displayName" : "first-name"}');
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const other = await reference(second, 'PUT', own, '{"displayName" : "second-name"}');
    expect(other.status, JSON.stringify(other.body)).toBe(200);
    expect(other.body.displayName).toBe('second-name');
    expect(await displayName()).toBe('second-name');
  });

  it.skipIf(skip)('the same change sent again with the same signature is refused as a replay', async () => {
    const second = new Date().toUTCString();
    expect((await reference(second, 'PUT', own, '{"displayName" : "once"}')).status).toBe(200);
    await call(s.url, s.adminKey, 'PATCH', `/v1/systems/${me.systemId}`, { display_name: 'changed-since' });
    const again = await reference(second, 'PUT', own, '{"displayName" : "once"}');
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ error: 'UNAUTHENTICATED', message: 'HTTP signature refused: this signed request was already used (replay)' });
    expect(await displayName()).toBe('changed-since');
  });

  it.skipIf(skip)('joining and leaving a group in one second both apply; joining again with that signature is a replay', async () => {
    const second = new Date().toUTCString();
    const members = `/api/v2/systemgroups/${groupId}/members`;
    const member = async () => (await call(s.url, s.adminKey, 'GET', `/v1/groups/${groupId}/members`)).body.items as string[];
    expect((await reference(second, 'POST', members, `{"op": "add", "type": "system", "id": "${me.systemId}"}`)).status).toBe(204);
    expect(await member()).toEqual([me.systemId]);
    expect((await reference(second, 'POST', members, `{"op": "remove", "type": "system", "id": "${me.systemId}"}`)).status).toBe(204);
    expect(await member()).toEqual([]);
    const replayed = await reference(second, 'POST', members, `{"op": "add", "type": "system", "id": "${me.systemId}"}`);
    expect(replayed.status).toBe(401);
    expect(replayed.body.message).toMatch(/replay/);
    expect(await member()).toEqual([]);
  });

  it.skipIf(skip)('reads are not once-only: the same GET in the same second answers twice', async () => {
    const second = new Date().toUTCString();
    expect((await reference(second, 'GET', own)).status).toBe(200);
    expect((await reference(second, 'GET', own)).status).toBe(200);
  });
});
