import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { FakeAgent } from './support/fake-agent.js';
import { call, startTestServer, type TestServer } from './support/server.js';

/** GET /v1/systems/{id}/runs: what ran on one machine lately, whatever the job (the console's system page). */
describe.each(DATABASES)("a system's runs on $name", ({ name, skip }) => {
  let s: TestServer;
  let a: FakeAgent;
  let b: FakeAgent;
  let otherKey: string;
  const admin = (method: string, path: string, body?: unknown) => call(s.url, s.adminKey, method, path, body);
  const launch = async (systemIds: string[]) =>
    (await admin('POST', '/v1/jobs', { content: 'true', targets: { system_ids: systemIds } })).body.job.id as string;

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    a = await FakeAgent.enroll(s.url, s.enrollmentKey, 'runs-a');
    b = await FakeAgent.enroll(s.url, s.enrollmentKey, 'runs-b');
    otherKey = (await admin('POST', '/v1/organizations', { name: 'Other', slug: 'other-runs' })).body.api_key;
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip)("lists the system's runs of every job, newest first, and no other system's", async () => {
    const first = await launch([a.systemId, b.systemId]);
    const second = await launch([b.systemId]);
    const third = await launch([a.systemId]);
    const { status, body } = await admin('GET', `/v1/systems/${a.systemId}/runs`);
    expect(status).toBe(200);
    expect(body.items.map((r: { job_id: string }) => r.job_id)).toEqual([third, first]);
    expect(body.items.every((r: { system_id: string; hostname: string }) => r.system_id === a.systemId && r.hostname === 'runs-a')).toBe(true);
    expect((await admin('GET', `/v1/systems/${b.systemId}/runs?limit=1`)).body.items.map((r: { job_id: string }) => r.job_id)).toEqual([second]);
  });

  it.skipIf(skip)('answers 400 for a limit out of range, and 404 for a system of another organization or none', async () => {
    for (const limit of ['0', '201']) {
      const res = await admin('GET', `/v1/systems/${a.systemId}/runs?limit=${limit}`);
      expect(res.status, limit).toBe(400);
      expect(res.body.error.message).toContain('limit');
    }
    expect((await call(s.url, otherKey, 'GET', `/v1/systems/${a.systemId}/runs`)).status).toBe(404);
    expect((await admin('GET', '/v1/systems/0123456789abcdef01234567/runs')).status).toBe(404);
    expect((await call(s.url, undefined, 'GET', `/v1/systems/${a.systemId}/runs`)).status).toBe(401);
  });
});
