import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, jumpcloudHeaders } from './support/curl.js';
import { DATABASES } from './support/databases.js';
import { FakeAgent } from './support/fake-agent.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { enrollSystem, signedCall } from './support/system-context.js';

/** JumpCloud's commands and command results as its documented curl calls use them. */
describe.each(DATABASES)('JumpCloud commands as documented, on $name', ({ name, skip }) => {
  let s: TestServer;
  let agent: FakeAgent;
  let viewerKey: string;
  let otherKey: string;
  const api = (path: string) => `${s.url}/api${path}`;
  const jc = (key: string, method: string, path: string, body?: unknown) =>
    curl([
      '-X',
      method,
      ...jumpcloudHeaders(key, body !== undefined),
      ...(body === undefined ? [] : ['-d', typeof body === 'string' ? body : JSON.stringify(body)]),
      api(path),
    ]);
  const admin = (method: string, path: string, body?: unknown) => jc(s.adminKey, method, path, body);

  /** Plays the agent's side of one run: started, then the result. */
  async function finish(runId: string, exitCode: number | null, stdout: string, stderr = ''): Promise<void> {
    await agent.next('run.deliver', (m) => m.run_id === runId);
    const now = new Date().toISOString();
    agent.send({ type: 'run.started', run_id: runId, started_at: now });
    agent.send({
      type: 'run.result',
      run_id: runId,
      outcome: exitCode === null ? 'timed_out' : 'exited',
      exit_code: exitCode,
      signal: exitCode === null ? 'SIGKILL' : null,
      started_at: now,
      finished_at: new Date().toISOString(),
      stdout,
      stderr,
      stdout_truncated: false,
      stderr_truncated: false,
      error: exitCode === null ? 'timed out after 120 s' : null,
    });
    await agent.next('run.ack', (m) => m.run_id === runId);
  }

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

  it.skipIf(skip)('answers every JumpCloud path with and without a trailing slash; the native API stays strict', async () => {
    // JumpCloud documents `POST https://console.jumpcloud.com/api/commands/`.
    const created = await admin('POST', '/commands/', {
      name: 'slash',
      command: 'echo hi',
      commandType: 'linux',
      user: '000000000000000000000000',
      launchType: 'trigger',
      trigger: 'slashed',
    });
    expect(created.status).toBe(200);
    const id = created.body._id;
    for (const path of [
      '/commands',
      '/commands/',
      `/commands/${id}`,
      `/commands/${id}/`,
      '/commandresults/',
      '/systems/',
      `/systems/${agent.systemId}/`,
      '/systemusers/',
      '/v2/systemgroups/',
      `/v2/commands/${id}/associations/`,
    ]) {
      const res = await admin('GET', path);
      expect(res.status, path).toBe(200);
    }
    expect((await admin('PUT', `/commands/${id}/`, { systems: [agent.systemId] })).body.systems).toEqual([agent.systemId]);
    const fired = await curl([
      '-X',
      'POST',
      '-H',
      `x-api-key: ${s.adminKey}`,
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"srcip":"10.0.0.1"}',
      api('/command/trigger/slashed/'),
    ]);
    expect(fired.status).toBe(200);
    expect(fired.body.triggered).toEqual([id]);
    const firedRuns = await call(s.url, s.adminKey, 'GET', `/v1/jobs/${fired.body.jobs[0].jobId}/runs`);
    await finish(firedRuns.body.items[0].id, 0, 'hi\n');
    const ran = await admin('POST', '/runCommand/', { _id: id });
    expect(ran.status).toBe(200);
    await finish(ran.body.queueIds[0], 0, 'hi\n');
    // The twins keep their route's checks: credentials, roles, a system's own signature.
    const anonymous = await curl(['-X', 'GET', '-H', 'Accept: application/json', api('/commands/')]);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: 'UNAUTHENTICATED', message: expect.any(String) });
    expect((await jc(viewerKey, 'DELETE', `/commands/${id}/`)).status).toBe(403);
    expect((await jc(otherKey, 'GET', `/commands/${id}/`)).status).toBe(404);
    const system = await enrollSystem(s.url, s.enrollmentKey, 'self-1');
    expect((await signedCall(s.url, system, 'GET', `/api/systems/${system.systemId}/`)).body).toMatchObject({ _id: system.systemId });
    expect((await signedCall(s.url, system, 'GET', '/api/commands/')).status).toBe(401);
    expect((await admin('DELETE', `/commands/${id}/`)).status).toBe(200);
    // The native API is strict about paths.
    expect((await call(s.url, s.adminKey, 'GET', '/v1/systems')).status).toBe(200);
    const native = await call(s.url, s.adminKey, 'GET', '/v1/systems/');
    expect(native.status).toBe(404);
    expect(native.body.error.code).toBe('NOT_FOUND');
  });

  it.skipIf(skip)("binds the systems a command body names, so its first trigger runs there; a PUT's systems replace them", async () => {
    const created = await admin('POST', '/commands/', {
      name: 'restart-web',
      command: 'systemctl restart nginx',
      commandType: 'linux',
      user: '000000000000000000000000',
      launchType: 'trigger',
      trigger: 'restartWeb',
      systems: [agent.systemId],
    });
    expect(created.status).toBe(200);
    expect(created.body.systems).toEqual([agent.systemId]);
    const id = created.body._id;
    expect((await admin('GET', `/v2/commands/${id}/systems`)).body.map((b: { id: string }) => b.id)).toEqual([agent.systemId]);
    const fired = await curl(['-X', 'POST', '-H', `x-api-key: ${s.adminKey}`, api('/command/trigger/restartWeb')]);
    expect(fired.status).toBe(200);
    expect(fired.body).toMatchObject({ triggered: [id], jobs: [{ commandId: id }] });
    expect(fired.body.skipped).toBeUndefined();
    const runs = (await call(s.url, s.adminKey, 'GET', `/v1/jobs/${fired.body.jobs[0].jobId}/runs`)).body.items;
    expect(runs.map((r: { system_id: string }) => r.system_id)).toEqual([agent.systemId]);
    await finish(runs[0].id, 0, '');
    // Groups bound through v2 stay when a PUT names the systems.
    const group = await admin('POST', '/v2/systemgroups', { name: 'web-servers' });
    expect((await admin('POST', `/v2/commands/${id}/associations`, { op: 'add', type: 'system_group', id: group.body.id })).status).toBe(204);
    const cleared = await admin('PUT', `/commands/${id}`, { systems: [] });
    expect(cleared.body.systems).toEqual([]);
    expect((await admin('GET', `/v2/commands/${id}/associations`)).body).toEqual([
      { attributes: null, to: { attributes: null, id: group.body.id, type: 'system_group' } },
    ]);
    const bad = await admin('POST', '/commands', { name: 'bad-systems', command: 'true', systems: 'web-1' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('systems');
  });

  it.skipIf(skip)('lists command results with their exit code and without output; limit, skip, sort and fields apply', async () => {
    const c = await admin('POST', '/commands', {
      name: 'probe',
      command: 'probe',
      commandType: 'linux',
      user: '000000000000000000000000',
      systems: [agent.systemId],
    });
    for (const [exit, out] of [
      [0, 'all good\n'],
      [null, 'stuck\n'],
      [3, 'disk full\n'],
    ] as const) {
      const ran = await admin('POST', '/runCommand', { _id: c.body._id });
      await finish(ran.body.queueIds[0], exit, out, exit === 3 ? 'warning\n' : '');
    }
    const list = await jc(viewerKey, 'GET', `/commandresults?limit=10&skip=0&sort=-requestTime`);
    expect(list.status).toBe(200);
    const mine = list.body.results.filter((r: { workflowId: string }) => r.workflowId === c.body._id);
    // A run without an exit code (timed out) lists -1.
    expect(mine.map((r: { exitCode: number }) => r.exitCode)).toEqual([3, -1, 0]);
    for (const item of mine) {
      expect(item).not.toHaveProperty('response');
      expect(item).toMatchObject({
        name: 'probe',
        systemId: agent.systemId,
        system: 'web-1',
        files: [],
        sudo: false,
        requestTime: expect.any(String),
        responseTime: expect.any(String),
      });
    }
    // One result has the output the list leaves out.
    const one = await jc(viewerKey, 'GET', `/commandresults/${mine[0]._id}`);
    expect(one.body).toMatchObject({
      exitCode: 3,
      files: [],
      response: { data: { output: 'disk full\nwarning\n', exitCode: 3 }, error: 'exited with code 3' },
    });
    // Runs without an exit code sort last either way, on both databases.
    const byCommand = await jc(viewerKey, 'GET', `/commands/${c.body._id}/results?sort=exitCode`);
    expect(byCommand.body.map((r: { exitCode: number }) => r.exitCode)).toEqual([0, 3, -1]);
    const byName = await jc(viewerKey, 'GET', `/commands/probe/results?sort=-exitCode`);
    expect(byName.body.map((r: { exitCode: number }) => r.exitCode)).toEqual([3, 0, -1]);
    const paged = await jc(viewerKey, 'GET', `/commands/${c.body._id}/results?sort=-exitCode&limit=1&skip=1`);
    expect(paged.body.map((r: { exitCode: number }) => r.exitCode)).toEqual([0]);
    const fields = await jc(viewerKey, 'GET', `/commandresults?fields=exitCode%20name&limit=1`);
    expect(Object.keys(fields.body.results[0]).sort()).toEqual(['_id', 'exitCode', 'name']);
    const excluded = await jc(viewerKey, 'GET', `/commandresults?fields=-command%20-user&limit=1`);
    expect(excluded.body.results[0]).not.toHaveProperty('command');
    expect(excluded.body.results[0]).not.toHaveProperty('user');
    expect(excluded.body.results[0]).toHaveProperty('exitCode');
    for (const [query, field, message] of [
      ['sort=__proto__', 'sort', '__proto__'],
      ['sort=-stdout', 'sort', 'stdout'],
      ['limit=5000', 'limit', '1000'],
      ['limit=1.5', 'limit', 'integer'],
      ['skip=-1', 'skip', 'integer'],
      ['fields=a%20-b', 'fields', 'not both'],
    ] as const) {
      const res = await jc(viewerKey, 'GET', `/commandresults?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body).toMatchObject({ error: 'INVALID_ARGUMENT', message: expect.stringContaining(field) });
      expect(res.body.message, query).toContain(message);
    }
    expect((await jc(otherKey, 'GET', '/commandresults')).body).toEqual({ totalCount: 0, results: [] });
  });

  it.skipIf(skip)(
    'keeps listensTo, scheduleRepeatType, scheduleYear and template; commandRunners and files are accepted empty, refused otherwise',
    async () => {
      const body = {
        name: 'nightly',
        command: 'backup',
        commandType: 'linux',
        user: '000000000000000000000000',
        launchType: 'repeated',
        schedule: '0 0 3 * * *',
        scheduleRepeatType: 'day',
        scheduleYear: 2030,
        listensTo: 'backups',
        template: 'backup-template',
        commandRunners: [],
        files: [],
      };
      const created = await admin('POST', '/commands', body);
      expect(created.status).toBe(200);
      const kept = { scheduleRepeatType: 'day', scheduleYear: 2030, listensTo: 'backups', template: 'backup-template', commandRunners: [], files: [] };
      expect(created.body).toMatchObject(kept);
      expect((await admin('GET', `/commands/${created.body._id}`)).body).toMatchObject(kept);
      expect((await admin('GET', '/commands')).body.results.find((c: { _id: string }) => c._id === created.body._id)).toMatchObject(kept);
      // A PUT naming one of them leaves the others as they were; an empty value clears one.
      const put = await admin('PUT', `/commands/${created.body._id}`, { template: 'other-template', scheduleYear: '' });
      expect(put.body).toMatchObject({ template: 'other-template', scheduleYear: null, listensTo: 'backups', scheduleRepeatType: 'day' });
      const fresh = await admin('POST', '/commands', { name: 'plain', command: 'true' });
      expect(fresh.body).toMatchObject({ listensTo: '', scheduleRepeatType: '', scheduleYear: null, template: '', commandRunners: [], files: [], systems: [] });
      for (const [field, value, message] of [
        ['files', ['5b0f1c2d3e4f5a6b7c8d9e0f'], 'files'],
        ['commandRunners', ['5b0f1c2d3e4f5a6b7c8d9e0f'], 'command runner'],
        ['scheduleYear', 'next', 'scheduleYear'],
      ] as const) {
        const res = await admin('POST', '/commands', { name: `refused-${field}`, command: 'true', [field]: value });
        expect(res.status, field).toBe(400);
        expect(res.body).toMatchObject({ error: 'INVALID_ARGUMENT', message: expect.stringContaining(field) });
        expect(res.body.message).toContain(message);
      }
    },
  );
});
