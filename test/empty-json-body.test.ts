import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpDate, signRequest } from '../src/auth/http-signature.js';
import { DATABASES } from './support/databases.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { enrollSystem, type SignedSystem } from './support/system-context.js';

/**
 * PowerShell's `Invoke-RestMethod -Method Delete -ContentType application/json`
 * and JumpCloud's `Remove-JC…` cmdlets send a JSON content type and no body.
 * That is an empty body on every face, and authorization answers first.
 */

/** A request with `Content-Type: application/json` and an empty body (`Content-Length: 0`), as PowerShell sends it. */
async function emptyJson(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: '' });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** JumpCloud's documented curl call: `curl -X METHOD URL -H 'Accept: …' -H 'Content-Type: application/json' -H 'x-api-key: …'`. */
async function documentedCurl(method: string, url: string, apiKey: string | undefined): Promise<{ status: number; body: any }> {
  const args = [
    '-s',
    '-w',
    '\n%{http_code}',
    '-X',
    method,
    url,
    '-H',
    'Accept: application/json',
    '-H',
    'Content-Type: application/json',
    ...(apiKey ? ['-H', `x-api-key: ${apiKey}`] : []),
  ];
  const { stdout } = await promisify(execFile)('curl', args);
  const lines = stdout.split('\n');
  const status = Number(lines.pop());
  const text = lines.join('\n');
  return { status, body: text ? JSON.parse(text) : undefined };
}

describe.each(DATABASES)('an empty body with a JSON content type on $name', ({ name, skip }) => {
  let s: TestServer;
  let viewerKey: string;
  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    viewerKey = (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'viewer', role: 'viewer' })).body.secret;
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip)('native API: DELETE answers 401 without a key, 403 for a viewer, 404 for an unknown id, then 204', async () => {
    const group = (await call(s.url, s.adminKey, 'POST', '/v1/groups', { name: 'to-delete' })).body.id;
    const none = await emptyJson(s.url, 'DELETE', `/v1/groups/${group}`);
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHENTICATED');
    const viewer = await emptyJson(s.url, 'DELETE', `/v1/groups/${group}`, { authorization: `Bearer ${viewerKey}` });
    expect(viewer.status).toBe(403);
    expect(viewer.body.error.code).toBe('FORBIDDEN');
    expect((await emptyJson(s.url, 'DELETE', '/v1/groups/no-such-group', { authorization: `Bearer ${s.adminKey}` })).status).toBe(404);
    expect((await emptyJson(s.url, 'DELETE', `/v1/groups/${group}`, { authorization: `Bearer ${s.adminKey}` })).status).toBe(204);
    expect((await call(s.url, s.adminKey, 'GET', `/v1/groups/${group}`)).status).toBe(404);
  });

  it.skipIf(skip)('native API: a route that takes no body ignores the empty one; one that needs a body says so, after authentication', async () => {
    const key = (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'to-revoke', role: 'viewer' })).body;
    expect((await emptyJson(s.url, 'DELETE', `/v1/api-keys/${key.key.id}`, { 'x-api-key': s.adminKey })).status).toBe(204);
    expect((await emptyJson(s.url, 'POST', '/v1/groups')).status).toBe(401);
    const missing = await emptyJson(s.url, 'POST', '/v1/groups', { authorization: `Bearer ${s.adminKey}` });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'a JSON body is required (Content-Type: application/json)' });
  });

  it.skipIf(skip)('a viewer is told 403 before anything about its body: empty, malformed or invalid, on both faces', async () => {
    const viewer = { authorization: `Bearer ${viewerKey}` };
    for (const [path, body] of [
      ['/v1/groups', ''],
      ['/v1/jobs', '{"script":'],
      ['/v1/api-keys', '{"name": 5}'],
      ['/v1/organizations', ''],
    ] as const) {
      const res = await fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...viewer }, body });
      const answer = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status, `${path}: ${JSON.stringify(answer)}`).toBe(403);
      expect(answer.error.code).toBe('FORBIDDEN');
    }
    // An operator is allowed to create groups, so it hears about the body; creating keys needs admin.
    const operatorKey = (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'operator', role: 'operator' })).body.secret;
    expect((await emptyJson(s.url, 'POST', '/v1/groups', { authorization: `Bearer ${operatorKey}` })).status).toBe(400);
    expect((await emptyJson(s.url, 'POST', '/v1/api-keys', { authorization: `Bearer ${operatorKey}` })).status).toBe(403);
    const jc = await emptyJson(s.url, 'POST', '/api/commands/', { 'x-api-key': viewerKey });
    expect(jc.status).toBe(403);
    expect(jc.body).toMatchObject({ error: 'FORBIDDEN' });
    // Reads stay open to viewers.
    expect((await fetch(`${s.url}/api/commands`, { headers: { 'x-api-key': viewerKey, 'content-type': 'application/json' } })).status).toBe(200);
  });

  it.skipIf(skip)("JumpCloud's documented curl DELETEs: 401 without a key, then the deletion", async () => {
    const system = await enrollSystem(s.url, s.enrollmentKey, 'curl-delete-1');
    const command = (
      await call(s.url, s.adminKey, 'POST', '/api/commands', { name: 'to-delete', command: 'true', commandType: 'linux' }, { 'x-api-key': s.adminKey })
    ).body;
    expect(command._id).toBeTruthy();

    const anonymous = await documentedCurl('DELETE', `${s.url}/api/systems/${system.systemId}`, undefined);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: 'UNAUTHENTICATED' });
    const viewer = await documentedCurl('DELETE', `${s.url}/api/commands/${command._id}`, viewerKey);
    expect(viewer.status).toBe(403);
    expect(viewer.body).toMatchObject({ error: 'FORBIDDEN' });

    const deleted = await documentedCurl('DELETE', `${s.url}/api/systems/${system.systemId}`, s.adminKey);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body._id).toBe(system.systemId);
    expect((await documentedCurl('DELETE', `${s.url}/api/commands/${command._id}`, s.adminKey)).status).toBe(200);
    expect((await call(s.url, s.adminKey, 'GET', `/v1/commands/${command._id}`)).status).toBe(404);
  });

  it.skipIf(skip)("JumpCloud: PowerShell's empty body on DELETE, and a route that needs a body says so in JumpCloud's shape", async () => {
    const group = (await call(s.url, s.adminKey, 'POST', '/v1/groups', { name: 'ps-group' })).body.id;
    const removed = await emptyJson(s.url, 'DELETE', `/api/v2/systemgroups/${group}`, { 'x-api-key': s.adminKey });
    expect(removed.status, JSON.stringify(removed.body)).toBeLessThan(300);
    expect((await emptyJson(s.url, 'POST', '/api/commands')).status).toBe(401);
    const missing = await emptyJson(s.url, 'POST', '/api/commands', { 'x-api-key': s.adminKey });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: 'INVALID_ARGUMENT', message: 'a JSON body is required (Content-Type: application/json)' });
  });

  it.skipIf(skip)('System Context: a system deletes itself with a JSON content type and an empty body', async () => {
    const me: SignedSystem = await enrollSystem(s.url, s.enrollmentKey, 'ps-self-1');
    const path = `/api/systems/${me.systemId}`;
    const date = httpDate(new Date());
    const sign = (method: string) =>
      signRequest({ keyId: `system/${me.systemId}`, privateKeyPem: me.privateKeyPem, request: { method, path, headers: { date } } });
    const unsigned = await emptyJson(s.url, 'DELETE', path, { date, authorization: sign('GET') });
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.message).toMatch(/does not verify/);
    const deleted = await emptyJson(s.url, 'DELETE', path, { date, authorization: sign('DELETE') });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body._id).toBe(me.systemId);
    expect((await call(s.url, s.adminKey, 'GET', `/v1/systems/${me.systemId}`)).status).toBe(404);
  });
});
