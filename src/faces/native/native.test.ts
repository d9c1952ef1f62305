import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../../../test/support/databases.js';
import { FakeAgent } from '../../../test/support/fake-agent.js';
import { call, startTestServer, type TestServer } from '../../../test/support/server.js';
import { readSse } from '../../../test/support/sse.js';

describe.each(DATABASES)('native API on $name', ({ name, skip }) => {
  let s: TestServer;
  let agent: FakeAgent;
  let viewerKey: string;
  let otherKey: string;
  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    agent = await FakeAgent.enroll(s.url, s.enrollmentKey, 'web-1');
    await agent.connect();
    viewerKey = (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'viewer', role: 'viewer' })).body.secret;
    otherKey = (await call(s.url, s.adminKey, 'POST', '/v1/organizations', { name: 'Other', slug: 'other' })).body.api_key;
  });
  afterAll(async () => {
    await agent?.close();
    await s?.stop();
  });

  it.skipIf(skip)('serves health, readiness, metrics and the OpenAPI document', async () => {
    expect((await call(s.url, undefined, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await call(s.url, undefined, 'GET', '/readyz')).status).toBe(200);
    expect((await call(s.url, undefined, 'GET', '/metrics')).text).toContain('muster_agents_connected');
    const doc = await call(s.url, undefined, 'GET', '/docs/json');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/jobs', '/v1/runs/{id}/output', '/v1/api-keys']));
  });

  it.skipIf(skip)('answers 401 without a key or with a wrong one, in the native error shape', async () => {
    const none = await call(s.url, undefined, 'GET', '/v1/systems');
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(none.body.error.request_id).toBeTruthy();
    expect((await call(s.url, 'mk_wrong', 'GET', '/v1/systems')).status).toBe(401);
    expect((await call(s.url, undefined, 'GET', '/v1/systems', undefined, { 'x-api-key': s.adminKey })).status).toBe(200);
  });

  it.skipIf(skip)('creates, lists and revokes API keys; only admins may', async () => {
    const created = await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'ops', role: 'operator' });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^mk_/);
    const list = await call(s.url, s.adminKey, 'GET', '/v1/api-keys');
    expect(list.body.items.map((k: { id: string }) => k.id)).toContain(created.body.key.id);
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);
    expect((await call(s.url, viewerKey, 'POST', '/v1/api-keys', { name: 'x', role: 'admin' })).status).toBe(403);
    const bad = await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'x', role: 'root' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('role');
    expect((await call(s.url, otherKey, 'DELETE', `/v1/api-keys/${created.body.key.id}`)).status).toBe(404);
    expect((await call(s.url, s.adminKey, 'DELETE', `/v1/api-keys/${created.body.key.id}`)).status).toBe(204);
    expect((await call(s.url, created.body.secret, 'GET', '/v1/systems')).status).toBe(401);
  });

  it.skipIf(skip)('enrollment keys enroll systems until revoked', async () => {
    const created = await call(s.url, s.adminKey, 'POST', '/v1/enrollment-keys', { name: 'lab', tags: ['lab'] });
    expect(created.status).toBe(201);
    const lab = await FakeAgent.enroll(s.url, created.body.secret, 'lab-1');
    const system = await call(s.url, s.adminKey, 'GET', `/v1/systems/${lab.systemId}`);
    expect(system.body).toMatchObject({ hostname: 'lab-1', tags: ['lab'], connected: false });
    expect((await call(s.url, s.adminKey, 'DELETE', `/v1/enrollment-keys/${created.body.key.id}`)).status).toBe(204);
    await expect(FakeAgent.enroll(s.url, created.body.secret)).rejects.toThrow(/401/);
    await expect(FakeAgent.enroll(s.url, 'mek_nonsense')).rejects.toThrow(/401/);
  });

  it.skipIf(skip)('runs a job through a connected agent and serves its output', async () => {
    const launched = await call(s.url, s.adminKey, 'POST', '/v1/jobs', { content: 'echo hi', targets: { system_ids: [agent.systemId] }, env: { A: '1' } });
    expect(launched.status).toBe(201);
    const runId = launched.body.runs[0].id;
    const delivery = await agent.next('run.deliver', (m) => m.run_id === runId);
    expect(delivery).toMatchObject({ content: 'echo hi', shell: 'bash', env: { A: '1' }, timeout_s: 120 });
    agent.send({ type: 'run.started', run_id: runId, started_at: new Date().toISOString() });
    agent.send({ type: 'run.output', run_id: runId, seq: 0, stream: 'stdout', data: 'out\n' });
    agent.send({
      type: 'run.result',
      run_id: runId,
      outcome: 'exited',
      exit_code: 3,
      signal: null,
      started_at: new Date().toISOString(),
      finished_at: new Date().toISOString(),
      stdout: 'out\n',
      stderr: 'err\n',
      stdout_truncated: false,
      stderr_truncated: false,
      error: null,
    });
    await agent.next('run.ack', (m) => m.run_id === runId);
    const run = await call(s.url, s.adminKey, 'GET', `/v1/runs/${runId}`);
    expect(run.body).toMatchObject({ state: 'failed', exit_code: 3, stdout: 'out\n', stderr: 'err\n', hostname: 'web-1' });
    const stderr = await call(s.url, viewerKey, 'GET', `/v1/runs/${runId}/output?stream=stderr`);
    expect(stderr.headers.get('content-type')).toContain('text/plain');
    expect(stderr.text).toBe('err\n');
    const job = await call(s.url, viewerKey, 'GET', `/v1/jobs/${launched.body.job.id}`);
    expect(job.body).toMatchObject({ done: true, status: 'failed', counts: { failed: 1 } });
    const runs = await call(s.url, viewerKey, 'GET', `/v1/jobs/${launched.body.job.id}/runs`);
    expect(runs.body.items).toHaveLength(1);
    expect((await call(s.url, otherKey, 'GET', `/v1/jobs/${launched.body.job.id}`)).status).toBe(404);
    expect((await call(s.url, otherKey, 'GET', `/v1/runs/${runId}`)).status).toBe(404);
  });

  it.skipIf(skip)('streams live output and run endings as SSE, resumable with Last-Event-ID', async () => {
    const launched = await call(s.url, s.adminKey, 'POST', '/v1/jobs', { content: 'echo stream', targets: { system_ids: [agent.systemId] } });
    const runId = launched.body.runs[0].id;
    await agent.next('run.deliver', (m) => m.run_id === runId);
    agent.send({ type: 'run.started', run_id: runId, started_at: new Date().toISOString() });
    const url = `${s.url}/v1/jobs/${launched.body.job.id}/events`;
    const auth = { authorization: `Bearer ${viewerKey}` };
    // Live: the first chunk arrives while the stream is open.
    const live = readSse(url, auth, (e) => e.event === 'output');
    agent.send({ type: 'run.output', run_id: runId, seq: 0, stream: 'stdout', data: 'one\n' });
    const first = await live;
    expect(first.status).toBe(200);
    expect(first.events[0]).toMatchObject({ event: 'output', data: { run_id: runId, hostname: 'web-1', stream: 'stdout', data: 'one\n' } });
    agent.send({ type: 'run.output', run_id: runId, seq: 1, stream: 'stderr', data: 'two\n' });
    agent.send({
      type: 'run.result',
      run_id: runId,
      outcome: 'exited',
      exit_code: 0,
      signal: null,
      started_at: new Date().toISOString(),
      finished_at: new Date().toISOString(),
      stdout: 'one\n',
      stderr: 'two\n',
      stdout_truncated: false,
      stderr_truncated: false,
      error: null,
    });
    await agent.next('run.ack', (m) => m.run_id === runId);
    // Resumed after the first event: the rest, then the end.
    const rest = await readSse(url, { ...auth, 'last-event-id': first.events[0]!.id! }, (e) => e.event === 'end');
    expect(rest.events.map((e) => e.event)).toEqual(['output', 'run', 'end']);
    expect(rest.events[0]!.data).toMatchObject({ stream: 'stderr', data: 'two\n' });
    expect(rest.events[1]!.data).toMatchObject({ run_id: runId, state: 'succeeded', exit_code: 0 });
    // A finished run replays whole.
    const replay = await readSse(`${s.url}/v1/runs/${runId}/events`, auth, (e) => e.event === 'end');
    expect(replay.events.map((e) => e.event)).toEqual(['output', 'output', 'run', 'end']);
    expect((await readSse(url, { ...auth, 'last-event-id': 'garbage' }, () => true)).status).toBe(400);
    expect((await readSse(url, { authorization: `Bearer ${otherKey}` }, () => true)).status).toBe(404);
    expect((await readSse(url, {}, () => true)).status).toBe(401);
  });

  it.skipIf(skip)('refuses bad job input with 400 naming the field, oversized bodies with 413', async () => {
    const target = { system_ids: [agent.systemId] };
    const cases: Array<[unknown, string]> = [
      ['{"content": ', 'body'],
      [{ content: 'x', targets: target, timeout_s: '5' }, 'timeout_s'],
      [{ content: 'x', targets: target, shell: 'fish' }, 'shell'],
      [{ targets: target }, 'content'],
      [{ content: 'x', targets: target, surprise: 1 }, 'surprise'],
      [{ content: 'x', targets: target, env: { 'NOT-OK': 'v' } }, 'NOT-OK'],
    ];
    for (const [body, field] of cases) {
      const res = await call(s.url, s.adminKey, 'POST', '/v1/jobs', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('INVALID_ARGUMENT');
      expect(res.body.error.message).toContain(field);
    }
    const big = await call(s.url, s.adminKey, 'POST', '/v1/jobs', { content: 'x'.repeat(1024 * 1024 + 10), targets: target });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await call(s.url, viewerKey, 'POST', '/v1/jobs', { content: 'x', targets: target })).status).toBe(403);
    const foreign = await call(s.url, otherKey, 'POST', '/v1/jobs', { content: 'x', targets: target });
    expect(foreign.status).toBe(404);
    expect((await call(s.url, s.adminKey, 'GET', '/v1/nope')).status).toBe(404);
  });

  it.skipIf(skip)('refuses agent upgrades whose signature is wrong, stale or replayed', async () => {
    const headers = agent.signedHeaders();
    const stranger = new FakeAgent(s.url, agent.systemId, (await FakeAgent.enroll(s.url, s.enrollmentKey, 'other')).privateKeyPem);
    await expect(stranger.connect()).rejects.toThrow(/401/);
    await expect(agent.connect(agent.signedHeaders(new Date(Date.now() - 10 * 60_000)))).rejects.toThrow(/401/);
    await expect(
      agent.connect({
        date: headers.date,
        'x-muster-nonce': headers['x-muster-nonce'],
        authorization: headers.authorization.replace('request-line date', 'date'),
      }),
    ).rejects.toThrow(/401/);
    const replay = new FakeAgent(s.url, agent.systemId, agent.privateKeyPem);
    await replay.connect(headers);
    await expect(new FakeAgent(s.url, agent.systemId, agent.privateKeyPem).connect(headers)).rejects.toThrow(/401/);
    await replay.close();
    await agent.close();
    await agent.connect();
  });
});
