import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../../../test/support/databases.js';
import { call, startTestServer, type TestServer } from '../../../test/support/server.js';

describe.each(DATABASES)('native /v1/scripts on $name', ({ name, skip }) => {
  let s: TestServer;
  let viewerKey: string;
  let operatorKey: string;
  let otherKey: string;
  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    viewerKey = (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'viewer', role: 'viewer' })).body.secret;
    operatorKey = (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'operator', role: 'operator' })).body.secret;
    otherKey = (await call(s.url, s.adminKey, 'POST', '/v1/organizations', { name: 'Other', slug: 'other' })).body.api_key;
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip)('creates, reads by id and name, lists, patches and deletes', async () => {
    const created = await call(s.url, operatorKey, 'POST', '/v1/scripts', {
      name: 'disk usage',
      content: 'df -h',
      run_as: 'ops',
      default_targets: { group_ids: ['web'], selector: 'tag:web' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[a-f0-9]{24}$/),
      name: 'disk usage',
      content: 'df -h',
      shell: 'bash',
      run_as: 'ops',
      timeout_s: 120,
      ttl_s: 3600,
      default_targets: { system_ids: [], group_ids: ['web'], selector: 'tag:web' },
      created_at: expect.any(String),
      updated_at: expect.any(String),
      created_by: expect.stringMatching(/^api_key:/),
    });
    const id = created.body.id;
    expect((await call(s.url, viewerKey, 'GET', `/v1/scripts/${id}`)).body).toEqual(created.body);
    expect((await call(s.url, viewerKey, 'GET', `/v1/scripts/${encodeURIComponent('disk usage')}`)).body.id).toBe(id);
    const list = await call(s.url, viewerKey, 'GET', '/v1/scripts');
    expect(list.status).toBe(200);
    expect(list.body.items.map((x: { id: string }) => x.id)).toEqual([id]);
    const patched = await call(s.url, operatorKey, 'PATCH', `/v1/scripts/${id}`, { timeout_s: 60, run_as: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'disk usage', content: 'df -h', timeout_s: 60, run_as: null, default_targets: { group_ids: ['web'] } });
    expect((await call(s.url, operatorKey, 'DELETE', `/v1/scripts/${id}`)).status).toBe(204);
    expect((await call(s.url, viewerKey, 'GET', `/v1/scripts/${id}`)).status).toBe(404);
  });

  it.skipIf(skip)('answers 400 naming the field, and 409 for a taken name', async () => {
    const badShell = await call(s.url, s.adminKey, 'POST', '/v1/scripts', { name: 'x', content: 'true', shell: 'fish' });
    expect(badShell.status).toBe(400);
    expect(badShell.body.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(badShell.body.error.message).toContain('shell');
    const noContent = await call(s.url, s.adminKey, 'POST', '/v1/scripts', { name: 'x' });
    expect(noContent.status).toBe(400);
    expect(noContent.body.error.message).toContain('content');
    const badUser = await call(s.url, s.adminKey, 'POST', '/v1/scripts', { name: 'x', content: 'true', run_as: 'Bad User' });
    expect(badUser.status).toBe(400);
    expect(badUser.body.error.message).toContain('run_as');
    const ok = await call(s.url, s.adminKey, 'POST', '/v1/scripts', { name: 'taken', content: 'true' });
    expect(ok.status).toBe(201);
    const badPatch = await call(s.url, s.adminKey, 'PATCH', `/v1/scripts/${ok.body.id}`, { ttl_s: 0 });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.error.message).toContain('ttl_s');
    const dup = await call(s.url, s.adminKey, 'POST', '/v1/scripts', { name: 'taken', content: 'false' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('CONFLICT');
  });

  it.skipIf(skip)('answers 401 without a key and 403 to a viewer writing', async () => {
    const none = await call(s.url, undefined, 'GET', '/v1/scripts');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHENTICATED');
    expect((await call(s.url, undefined, 'POST', '/v1/scripts', { name: 'x', content: 'true' })).status).toBe(401);
    const forbidden = await call(s.url, viewerKey, 'POST', '/v1/scripts', { name: 'viewer-made', content: 'true' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('FORBIDDEN');
    const mine = await call(s.url, s.adminKey, 'POST', '/v1/scripts', { name: 'guarded', content: 'true' });
    expect((await call(s.url, viewerKey, 'PATCH', `/v1/scripts/${mine.body.id}`, { content: 'false' })).status).toBe(403);
    expect((await call(s.url, viewerKey, 'DELETE', `/v1/scripts/${mine.body.id}`)).status).toBe(403);
  });

  it.skipIf(skip)("answers 404 for another organization's script", async () => {
    const mine = await call(s.url, s.adminKey, 'POST', '/v1/scripts', { name: 'secret-sauce', content: 'true' });
    expect((await call(s.url, otherKey, 'GET', `/v1/scripts/${mine.body.id}`)).status).toBe(404);
    expect((await call(s.url, otherKey, 'GET', '/v1/scripts/secret-sauce')).status).toBe(404);
    expect((await call(s.url, otherKey, 'PATCH', `/v1/scripts/${mine.body.id}`, { content: 'false' })).status).toBe(404);
    expect((await call(s.url, otherKey, 'DELETE', `/v1/scripts/${mine.body.id}`)).status).toBe(404);
    expect((await call(s.url, otherKey, 'GET', '/v1/scripts')).body.items).toEqual([]);
    expect((await call(s.url, s.adminKey, 'GET', `/v1/scripts/${mine.body.id}`)).body.content).toBe('true');
  });
});
