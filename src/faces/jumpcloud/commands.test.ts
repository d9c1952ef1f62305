import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTrigger } from '../../core/commands/index.js';
import { DATABASES } from '../../../test/support/databases.js';
import { FakeAgent } from '../../../test/support/fake-agent.js';
import { call, startTestServer, type TestServer } from '../../../test/support/server.js';

describe.each(DATABASES)('JumpCloud commands face on $name', ({ name, skip }) => {
  let s: TestServer;
  let viewerKey: string;
  let otherKey: string;
  let systemId: string;
  const jc = (key: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    call(s.url, undefined, method, `/api${path}`, body, { ...(key ? { 'x-api-key': key } : {}), ...headers });
  const admin = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => jc(s.adminKey, method, path, body, headers);
  const create = async (body: Record<string, unknown>) => (await admin('POST', '/commands', { commandType: 'linux', ...body })).body;

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    viewerKey = (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'viewer', role: 'viewer' })).body.secret;
    otherKey = (await call(s.url, s.adminKey, 'POST', '/v1/organizations', { name: 'Other', slug: 'other' })).body.api_key;
    systemId = (await FakeAgent.enroll(s.url, s.enrollmentKey, 'web-1')).systemId;
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip)("creates, reads, lists, updates and deletes commands in JumpCloud's v1 shape", async () => {
    const created = await admin('POST', '/commands', {
      name: 'cleanup',
      command: 'echo $srcip',
      commandType: 'mac',
      user: '000000000000000000000000',
      sudo: false,
      launchType: 'trigger',
      trigger: 'diskFull',
      timeout: '30',
      timeToLiveSeconds: 600,
      files: [],
      schedule: '',
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      _id: expect.stringMatching(/^[a-f0-9]{24}$/),
      name: 'cleanup',
      command: 'echo $srcip',
      commandType: 'mac',
      user: '000000000000000000000000',
      launchType: 'trigger',
      trigger: 'diskFull',
      timeout: '30',
      timeToLiveSeconds: 600,
      shell: 'bash',
      schedule: '',
      organization: expect.any(String),
    });
    const id = created.body._id;
    expect((await jc(viewerKey, 'GET', `/commands/${id}`)).body).toEqual(created.body);
    const list = await jc(viewerKey, 'GET', '/commands');
    expect(list.body.totalCount).toBeGreaterThanOrEqual(1);
    expect(list.body.results.some((c: { _id: string }) => c._id === id)).toBe(true);
    // A PUT naming one field leaves the others as they were.
    const put = await admin('PUT', `/commands/${id}`, { name: 'cleanup-2' });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ ...created.body, name: 'cleanup-2' });
    const scheduled = await admin('PUT', `/commands/${id}`, { launchType: 'repeated', schedule: '0 */5 * * * *' });
    expect(scheduled.body).toMatchObject({
      launchType: 'repeated',
      schedule: '0 */5 * * * *',
      trigger: 'diskFull',
      command: 'echo $srcip',
      nextFireAt: expect.any(String),
    });
    const deleted = await admin('DELETE', `/commands/${id}`);
    expect(deleted.status).toBe(200);
    expect((await admin('GET', `/commands/${id}`)).status).toBe(404);
  });

  it.skipIf(skip)('reads a one-time launch from schedule as an instant, and a cron for repeated ones', async () => {
    const at = new Date(Date.now() + 3600_000).toISOString();
    const once = await create({ name: 'once', command: 'true', launchType: 'one-time', schedule: at, launchTypeExtra: 'ignored' });
    expect(once).toMatchObject({ launchType: 'one-time', schedule: at, nextFireAt: at });
    const moved = await admin('PUT', `/commands/${once._id}`, {
      launchType: 'repeated',
      schedule: '0 0 3 * * *',
      timezone: 'Europe/Berlin',
      runOnEnroll: true,
    });
    expect(moved.body).toMatchObject({
      launchType: 'repeated',
      schedule: '0 0 3 * * *',
      timezone: 'Europe/Berlin',
      runOnEnroll: true,
      nextFireAt: expect.stringMatching(/T02:00:00.000Z$/),
    });
    const manual = await admin('PUT', `/commands/${once._id}`, { launchType: '' });
    expect(manual.body.launchType).toBe('repeated');
  });

  it.skipIf(skip)("answers bad input with 400 and 401/403/404 in JumpCloud's error shape", async () => {
    const bad = async (body: Record<string, unknown>, field: string) => {
      const res = await admin('POST', '/commands', { name: `bad-${Math.random()}`, command: 'true', commandType: 'linux', ...body });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'INVALID_ARGUMENT', message: expect.stringContaining(field) });
    };
    await bad({ launchType: 'sometimes' }, 'launch_type');
    await bad({ launchType: 'repeated', schedule: 'every day' }, 'schedule');
    await bad({ commandType: 'amiga' }, 'commandType');
    await bad({ timeout: 'soon' }, 'timeout');
    await bad({ shell: 'fish' }, 'shell');
    const taken = await create({ name: 'taken', command: 'true' });
    expect((await admin('POST', '/commands', { name: 'taken', command: 'true' })).status).toBe(409);
    expect((await jc(undefined, 'GET', '/commands')).status).toBe(401);
    expect((await jc(undefined, 'GET', '/commands')).body).toMatchObject({ error: 'UNAUTHENTICATED', message: expect.any(String) });
    expect((await jc(viewerKey, 'POST', '/commands', { name: 'v', command: 'true' })).status).toBe(403);
    expect((await jc(viewerKey, 'PUT', `/commands/${taken._id}`, { name: 'v' })).status).toBe(403);
    expect((await jc(viewerKey, 'DELETE', `/commands/${taken._id}`)).status).toBe(403);
    for (const [method, body] of [['GET'], ['PUT', { name: 'x' }], ['DELETE']] as const) {
      const res = await jc(otherKey, method, `/commands/${taken._id}`, body);
      expect(res.status).toBe(404);
    }
  });

  it.skipIf(skip)("runs as the system user a JumpCloud user id names; the root id means the agent's own user", async () => {
    const user = await call(s.url, s.adminKey, 'POST', '/v1/users', { username: 'deploy' });
    expect(user.status).toBe(201);
    const c = await create({ name: 'as-deploy', command: 'id -un', user: user.body.id });
    expect(c.user).toBe('deploy');
    const root = await admin('PUT', `/commands/${c._id}`, { user: '000000000000000000000000' });
    expect(root.body.user).toBe('000000000000000000000000');
    const unknown = await admin('PUT', `/commands/${c._id}`, { user: 'ffffffffffffffffffffffff' });
    expect(unknown.status).toBe(404);
  });

  it.skipIf(skip)('binds systems through v2 associations and lists the bound systems and groups', async () => {
    const c = await create({ name: 'bound', command: 'true' });
    const add = await admin('POST', `/v2/commands/${c._id}/associations`, { op: 'add', type: 'system', id: systemId });
    expect(add.status).toBe(204);
    expect((await jc(viewerKey, 'GET', `/v2/commands/${c._id}/associations?targets=system`)).body).toEqual([
      { attributes: null, to: { attributes: null, id: systemId, type: 'system' } },
    ]);
    const systems = await jc(viewerKey, 'GET', `/v2/commands/${c._id}/systems`);
    expect(systems.body).toEqual([
      { id: systemId, type: 'system', compiledAttributes: null, paths: [[{ attributes: null, to: { attributes: null, id: systemId, type: 'system' } }]] },
    ]);
    expect((await jc(viewerKey, 'GET', `/v2/commands/${c._id}/systemgroups`)).body).toEqual([]);
    const unknown = await admin('POST', `/v2/commands/${c._id}/associations`, { op: 'add', type: 'system', id: 'ffffffffffffffffffffffff' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/system ffffffffffffffffffffffff not found/);
    expect((await admin('POST', `/v2/commands/${c._id}/associations`, { op: 'attach', type: 'system', id: systemId })).status).toBe(400);
    expect((await jc(viewerKey, 'POST', `/v2/commands/${c._id}/associations`, { op: 'remove', type: 'system', id: systemId })).status).toBe(403);
    expect((await jc(undefined, 'GET', `/v2/commands/${c._id}/associations`)).status).toBe(401);
    expect((await jc(otherKey, 'GET', `/v2/commands/${c._id}/systems`)).status).toBe(404);
    expect((await jc(otherKey, 'POST', `/v2/commands/${c._id}/associations`, { op: 'remove', type: 'system', id: systemId })).status).toBe(404);
    expect((await admin('POST', `/v2/commands/${c._id}/associations`, { op: 'remove', type: 'system', id: systemId })).status).toBe(204);
    expect((await admin('GET', `/v2/commands/${c._id}/associations`)).body).toEqual([]);
  });

  it.skipIf(skip)('runs a saved command now with runCommand', async () => {
    const c = await create({ name: 'now', command: 'true' });
    await admin('POST', `/v2/commands/${c._id}/associations`, { op: 'add', type: 'system', id: systemId });
    const run = await admin('POST', '/runCommand', { _id: c._id });
    expect(run.status).toBe(200);
    expect(run.body).toEqual({ queueIds: [expect.stringMatching(/^[a-f0-9]{24}$/)], workflowInstanceId: expect.any(String) });
    expect((await admin('POST', '/runCommand', {})).status).toBe(400);
    expect((await jc(undefined, 'POST', '/runCommand', { _id: c._id })).status).toBe(401);
    expect((await jc(viewerKey, 'POST', '/runCommand', { _id: c._id })).status).toBe(403);
    expect((await jc(otherKey, 'POST', '/runCommand', { _id: c._id })).status).toBe(404);
  });

  it.skipIf(skip)('serves command results: an empty list, 404 for an unknown or foreign result, 403 for a viewer deleting', async () => {
    const list = await jc(viewerKey, 'GET', '/commandresults');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ totalCount: expect.any(Number), results: expect.any(Array) });
    expect((await jc(viewerKey, 'GET', '/commandresults/ffffffffffffffffffffffff')).status).toBe(404);
    expect((await jc(otherKey, 'GET', '/commandresults/ffffffffffffffffffffffff')).status).toBe(404);
    expect((await jc(viewerKey, 'DELETE', '/commandresults/ffffffffffffffffffffffff')).status).toBe(403);
    expect((await jc(undefined, 'GET', '/commandresults')).status).toBe(401);
    expect((await admin('GET', '/commandresults?limit=many')).status).toBe(400);
  });

  describe('command triggers', () => {
    it.skipIf(skip)("starts the trigger's commands with the body as environment; errors are visible", async () => {
      const c = await create({ name: 'on-alert', command: 'echo $srcip', launchType: 'trigger', trigger: 'alert' });
      await admin('POST', `/v2/commands/${c._id}/associations`, { op: 'add', type: 'system', id: systemId });
      const body = '{ "srcip":"192.168.2.32", "test":{ "bob":"1", "jane":"3"} }';
      const fired = await admin('POST', '/command/trigger/alert', body);
      expect(fired.status).toBe(200);
      expect(fired.body).toEqual({ triggered: [c._id], jobs: [{ commandId: c._id, jobId: expect.any(String) }] });
      const job = await call(s.url, s.adminKey, 'GET', `/v1/jobs/${fired.body.jobs[0].jobId}`);
      expect(job.body).toMatchObject({ source: 'trigger', env: { srcip: '192.168.2.32', test: '[object Object]' }, script_id: c._id });
      // curl without -d sends no body at all.
      expect((await jc(s.adminKey, 'POST', '/command/trigger/alert')).status).toBe(200);
      const expectError = async (res: Awaited<ReturnType<typeof jc>>, status: number, message: RegExp) => {
        expect(res.status).toBe(status);
        expect(res.body).toMatchObject({ message: expect.stringMatching(message), error: expect.any(String) });
      };
      await expectError(await admin('POST', '/command/trigger/nothing'), 404, /no command has the trigger nothing/);
      await expectError(await admin('POST', '/command/trigger/alert', '{"bad-key": 1}'), 400, /bad-key/);
      await expectError(await admin('POST', '/command/trigger/alert', '[1, 2]'), 400, /JSON object/);
      await expectError(await admin('POST', '/command/trigger/alert', '{oops'), 400, /not valid JSON/);
      await expectError(await admin('POST', '/command/trigger/alert', JSON.stringify({ a: 'x'.repeat(1024 * 1024) })), 413, /larger/);
      await expectError(await jc(undefined, 'POST', '/command/trigger/alert', '{}'), 401, /API key/);
      await expectError(await jc(viewerKey, 'POST', '/command/trigger/alert', '{}'), 403, /operator/);
      await expectError(await jc(otherKey, 'POST', '/command/trigger/alert', '{}'), 404, /no command/);
    });

    it.skipIf(skip)('accepts a call signed with the trigger secret once, and answers a repeated Idempotency-Key without launching', async () => {
      const created = await call(s.url, s.adminKey, 'POST', '/v1/triggers', { name: 'alert', secret: true });
      expect(created.status).toBe(201);
      const secret: string = created.body.secret;
      const body = '{"srcip":"10.9.9.9"}';
      const t = Math.floor(Date.now() / 1000);
      const signature = `t=${t},v1=${signTrigger(secret, t, body)}`;
      const signed = await jc(undefined, 'POST', '/command/trigger/alert', body, { 'x-muster-signature': signature });
      expect(signed.status).toBe(200);
      const replayed = await jc(undefined, 'POST', '/command/trigger/alert', body, { 'x-muster-signature': signature });
      expect(replayed.status).toBe(401);
      expect(replayed.body.message).toMatch(/replay/);
      const wrong = await jc(undefined, 'POST', '/command/trigger/alert', body, { 'x-muster-signature': `t=${t},v1=${'0'.repeat(64)}` });
      expect(wrong.status).toBe(401);
      const first = await admin('POST', '/command/trigger/alert', '{}', { 'idempotency-key': 'retry-1' });
      const second = await admin('POST', '/command/trigger/alert', '{}', { 'idempotency-key': 'retry-1' });
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
    });
  });
});
