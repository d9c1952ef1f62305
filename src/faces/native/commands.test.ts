import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../../../test/support/databases.js';
import { FakeAgent } from '../../../test/support/fake-agent.js';
import { call, startTestServer, type TestServer } from '../../../test/support/server.js';

describe.each(DATABASES)('native /v1/commands and /v1/triggers on $name', ({ name, skip }) => {
  let s: TestServer;
  let viewerKey: string;
  let otherKey: string;
  let systemId: string;
  const admin = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(s.url, s.adminKey, method, path, body, headers);

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    viewerKey = (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'viewer', role: 'viewer' })).body.secret;
    otherKey = (await call(s.url, s.adminKey, 'POST', '/v1/organizations', { name: 'Other', slug: 'other' })).body.api_key;
    systemId = (await FakeAgent.enroll(s.url, s.enrollmentKey, 'web-1')).systemId;
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip)('creates a command with launch settings, patches some fields, runs it, and deletes it', async () => {
    const created = await admin('POST', '/v1/commands', {
      name: 'backup',
      content: 'echo backup',
      launch_type: 'repeated',
      schedule: '0 3 * * *',
      timezone: 'Europe/Berlin',
      run_on_enroll: true,
      default_targets: { system_ids: [systemId] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      launch_type: 'repeated',
      schedule: '0 3 * * *',
      timezone: 'Europe/Berlin',
      run_on_enroll: true,
      trigger: null,
      next_fire_at: expect.stringMatching(/T02:00:00.000Z$/),
    });
    const id = created.body.id;
    const patched = await admin('PATCH', `/v1/commands/backup`, { name: 'backup-2' });
    expect(patched.body).toEqual({ ...created.body, name: 'backup-2', updated_at: expect.any(String) });
    const run = await admin('POST', `/v1/commands/${id}/run`, {});
    expect(run.status).toBe(201);
    expect(run.body.job).toMatchObject({ script_id: id, total: 1, content: 'echo backup' });
    expect((await call(s.url, viewerKey, 'GET', `/v1/commands/${id}/results`)).body).toEqual({ total: 0, items: [] });
    expect((await call(s.url, viewerKey, 'GET', '/v1/commands')).body.items.map((c: { id: string }) => c.id)).toContain(id);
    expect((await admin('DELETE', `/v1/commands/${id}`)).status).toBe(204);
    expect((await admin('GET', `/v1/commands/${id}`)).status).toBe(404);
  });

  it.skipIf(skip)('answers 400 for bad command fields and 401/403/404 for the wrong caller', async () => {
    const bad = await admin('POST', '/v1/commands', { name: 'x', content: 'true', launch_type: 'repeated', schedule: '99 * * * *' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('schedule') });
    expect((await admin('POST', '/v1/commands', { name: 'x', content: 'true', launch_type: 'weekly' })).status).toBe(400);
    const c = (
      await admin('POST', '/v1/commands', { name: 'mine', content: 'true', launch_type: 'trigger', trigger: 'go', default_targets: { system_ids: [systemId] } })
    ).body;
    expect((await call(s.url, undefined, 'GET', '/v1/commands')).status).toBe(401);
    expect((await call(s.url, viewerKey, 'POST', '/v1/commands', { name: 'v', content: 'true' })).status).toBe(403);
    expect((await call(s.url, viewerKey, 'POST', `/v1/commands/${c.id}/run`, {})).status).toBe(403);
    expect((await call(s.url, otherKey, 'GET', `/v1/commands/${c.id}`)).status).toBe(404);
    expect((await call(s.url, otherKey, 'PATCH', `/v1/commands/${c.id}`, { name: 'z' })).status).toBe(404);
    expect((await call(s.url, otherKey, 'POST', `/v1/commands/${c.id}/run`, {})).status).toBe(404);
  });

  it.skipIf(skip)('creates triggers with a secret shown once, fires them, and refuses duplicates, viewers and strangers', async () => {
    const created = await admin('POST', '/v1/triggers', { name: 'go', secret: true });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      trigger: { id: expect.any(String), name: 'go', has_secret: true, created_at: expect.any(String), created_by: expect.any(String) },
      secret: expect.stringMatching(/^mts_/),
    });
    expect((await admin('POST', '/v1/triggers', { name: 'go' })).status).toBe(409);
    expect((await admin('POST', '/v1/triggers', { name: 'no spaces' })).status).toBe(400);
    expect((await call(s.url, viewerKey, 'GET', '/v1/triggers')).body.items).toEqual([created.body.trigger]);
    const fired = await admin('POST', '/v1/triggers/go/fire', { srcip: '10.0.0.1' });
    expect(fired.status).toBe(200);
    expect(fired.body).toMatchObject({
      triggered: [expect.any(String)],
      jobs: [{ command_id: expect.any(String), job_id: expect.any(String) }],
      skipped: [],
      replayed: false,
    });
    expect((await admin('POST', '/v1/triggers/go/fire', '{"a-b": 1}')).status).toBe(400);
    expect((await admin('POST', '/v1/triggers/unknown/fire', {})).status).toBe(404);
    expect((await call(s.url, undefined, 'POST', '/v1/triggers/go/fire', {})).status).toBe(401);
    expect((await call(s.url, viewerKey, 'POST', '/v1/triggers/go/fire', {})).status).toBe(403);
    expect((await call(s.url, viewerKey, 'POST', '/v1/triggers', { name: 'v' })).status).toBe(403);
    expect((await call(s.url, otherKey, 'POST', '/v1/triggers/go/fire', {})).status).toBe(404);
    expect((await call(s.url, otherKey, 'DELETE', '/v1/triggers/go')).status).toBe(404);
    const rotated = await admin('POST', '/v1/triggers/go/rotate-secret');
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect((await admin('DELETE', '/v1/triggers/go')).status).toBe(204);
  });
});
