import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { FakeAgent } from './support/fake-agent.js';
import { call, startTestServer, type TestServer } from './support/server.js';

/** GET /v1/script-jobs: the SimpleMDM face's script jobs through the native API (the console's script jobs page). */
describe.each(DATABASES)('script jobs over the native API on $name', ({ name, skip }) => {
  let s: TestServer;
  let a: FakeAgent;
  let b: FakeAgent;
  let otherKey: string;
  const admin = (method: string, path: string, body?: unknown) => call(s.url, s.adminKey, method, path, body);
  const smdm = (method: string, path: string, body?: unknown) =>
    call(s.url, undefined, method, `/api/v1${path}`, body, { authorization: `Basic ${Buffer.from(`${s.adminKey}:`).toString('base64')}` });

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    a = await FakeAgent.enroll(s.url, s.enrollmentKey, 'smdm-a');
    b = await FakeAgent.enroll(s.url, s.enrollmentKey, 'smdm-b');
    otherKey = (await admin('POST', '/v1/organizations', { name: 'Other', slug: 'other-script-jobs' })).body.api_key;
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip)('lists script jobs newest first with their status and counts per device status, as SimpleMDM shows them', async () => {
    const script = (await admin('POST', '/v1/scripts', { name: 'inventory', content: 'true' })).body.id as string;
    const first = (await smdm('POST', '/script_jobs', { script_id: script, device_ids: [a.systemId, b.systemId], job_name: 'nightly' })).body.data;
    const second = (await admin('POST', '/v1/jobs', { script: 'inventory', targets: { system_ids: [a.systemId] } })).body.job.id as string;
    await admin('POST', `/v1/jobs/${second}/cancel`);
    // A job of no saved script is not a script job.
    await admin('POST', '/v1/jobs', { content: 'true', targets: { system_ids: [a.systemId] } });
    const res = await admin('GET', '/v1/script-jobs');
    expect(res.status).toBe(200);
    expect(res.body.items.map((j: { job_id: string }) => j.job_id)).toEqual([second, first.attributes.job_identifier]);
    const [cancelled, nightly] = res.body.items;
    expect(nightly).toMatchObject({
      number: first.id,
      script_name: 'inventory',
      job_name: 'nightly',
      status: 'pending',
      total: 2,
      device_counts: { pending: 2, sent: 0, running: 0, completed: 0, failed: 0, cancelled: 0 },
    });
    expect(cancelled).toMatchObject({ job_name: 'inventory', status: 'failed', device_counts: { cancelled: 1, pending: 0 } });
    // The SimpleMDM face says the same of the same job.
    const seen = (await smdm('GET', `/script_jobs/${first.id}`)).body.data.attributes;
    expect(seen).toMatchObject({ status: nightly.status, pending_count: 2 });
    const page = await admin('GET', '/v1/script-jobs?limit=1');
    expect(page.body.items).toHaveLength(1);
    const older = await admin('GET', `/v1/script-jobs?limit=1&before=${page.body.next_cursor}`);
    expect(older.body).toMatchObject({ items: [{ job_id: first.attributes.job_identifier }], next_cursor: null });
  });

  it.skipIf(skip)('answers 400 for a bad limit or cursor, 401 without a key; another organization sees none of them', async () => {
    for (const q of ['limit=0', 'limit=101', 'before=x', 'other=1']) expect((await admin('GET', `/v1/script-jobs?${q}`)).status, q).toBe(400);
    expect((await call(s.url, undefined, 'GET', '/v1/script-jobs')).status).toBe(401);
    expect((await call(s.url, otherKey, 'GET', '/v1/script-jobs')).body).toEqual({ items: [], next_cursor: null });
    // A viewer may read them (every role may), so no role is refused here.
    const viewer = (await admin('POST', '/v1/api-keys', { name: 'smdm-viewer', role: 'viewer' })).body.secret;
    expect((await call(s.url, viewer, 'GET', '/v1/script-jobs')).status).toBe(200);
  });
});
