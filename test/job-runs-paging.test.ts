import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { FakeAgent } from './support/fake-agent.js';
import { call, startTestServer, type TestServer } from './support/server.js';

/** GET /v1/jobs/{id}/runs with limit, cursor and state (the console's job page), and without (the CLI). */
describe.each(DATABASES)("a job's runs over the API on $name", ({ name, skip }) => {
  let s: TestServer;
  let jobId: string;
  let otherKey: string;
  const admin = (method: string, path: string, body?: unknown) => call(s.url, s.adminKey, method, path, body);

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    const agents = [];
    for (const host of ['paged-c', 'paged-a', 'paged-b']) agents.push(await FakeAgent.enroll(s.url, s.enrollmentKey, host));
    jobId = (await admin('POST', '/v1/jobs', { content: 'true', targets: { system_ids: agents.map((a) => a.systemId) } })).body.job.id;
    otherKey = (await admin('POST', '/v1/organizations', { name: 'Other', slug: 'other-paged' })).body.api_key;
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip)('answers every run at once without limit, and pages by hostname with it', async () => {
    const whole = await admin('GET', `/v1/jobs/${jobId}/runs`);
    expect(whole.status).toBe(200);
    expect(whole.body).toMatchObject({ total: 3, next_cursor: null });
    expect(whole.body.items.map((r: { hostname: string }) => r.hostname)).toEqual(['paged-a', 'paged-b', 'paged-c']);
    const first = await admin('GET', `/v1/jobs/${jobId}/runs?limit=2`);
    expect(first.body.items.map((r: { hostname: string }) => r.hostname)).toEqual(['paged-a', 'paged-b']);
    expect(first.body.total).toBe(3);
    const second = await admin('GET', `/v1/jobs/${jobId}/runs?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body).toMatchObject({ total: 3, next_cursor: null });
    expect(second.body.items.map((r: { hostname: string }) => r.hostname)).toEqual(['paged-c']);
    expect((await admin('GET', `/v1/jobs/${jobId}/runs?limit=10&state=pending`)).body.total).toBe(3);
    expect((await admin('GET', `/v1/jobs/${jobId}/runs?limit=10&state=failed`)).body).toMatchObject({ items: [], total: 0, next_cursor: null });
  });

  it.skipIf(skip)('answers 400 for a bad limit, state or cursor, 401 without a key and 404 for another organization', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=x', 'state=sleeping', 'limit=5&cursor=bm90LWEtY3Vyc29y', 'other=1']) {
      const res = await admin('GET', `/v1/jobs/${jobId}/runs?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code, q).toBe('INVALID_ARGUMENT');
    }
    expect((await call(s.url, undefined, 'GET', `/v1/jobs/${jobId}/runs?limit=2`)).status).toBe(401);
    expect((await call(s.url, otherKey, 'GET', `/v1/jobs/${jobId}/runs?limit=2`)).status).toBe(404);
    // Reading runs is a viewer's right: every role may, so no role is refused here.
    const viewer = (await admin('POST', '/v1/api-keys', { name: 'paged-viewer', role: 'viewer' })).body.secret;
    expect((await call(s.url, viewer, 'GET', `/v1/jobs/${jobId}/runs?limit=2`)).status).toBe(200);
  });
});
