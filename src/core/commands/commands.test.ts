import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPublicKey, coreFixture, FACTS, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import type { Actor } from '../access/index.js';
import { signTrigger, triggerEnv } from './index.js';

describe('triggerEnv', () => {
  it("turns top-level keys into variables as JumpCloud does: strings as-is, numbers and booleans as JSON, objects as '[object Object]'", () => {
    expect(triggerEnv('{ "srcip":"192.168.2.32", "test":{ "bob":"1", "jane":"3"} }')).toEqual({ srcip: '192.168.2.32', test: '[object Object]' });
    expect(triggerEnv('{"n": 1.5, "b": false, "a": [1, 2], "z": null}')).toEqual({ n: '1.5', b: 'false', a: '[object Object]', z: 'null' });
    expect(triggerEnv(undefined)).toEqual({});
    expect(triggerEnv('  ')).toEqual({});
  });

  it('refuses bodies that are not a JSON object, and names an invalid variable', () => {
    expect(() => triggerEnv('[1]')).toThrow(/body: must be a JSON object/);
    expect(() => triggerEnv('"x"')).toThrow(/must be a JSON object/);
    expect(() => triggerEnv('{nope')).toThrow(/not valid JSON/);
    expect(() => triggerEnv('{"bad-name": "x"}')).toThrow(/body.bad-name: "bad-name" is not a valid variable name/);
    expect(() => triggerEnv(`{"a": "${'x'.repeat(1024 * 1024)}"}`)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
  });
});

describe.each(DATABASES)('commands and triggers on $name', ({ name, skip }) => {
  let f: CoreFixture;
  let web: string;
  let db: string;
  const viewer = (): Actor => ({ ...f.admin, role: 'viewer' });
  const enroll = async (hostname: string) =>
    (await f.core.systems.enroll(f.enrollmentKey, { public_key: agentPublicKey(), facts: { ...FACTS, hostname } }, null)).id;
  const jobsOf = async () => (await f.core.jobs.list(f.admin, { limit: 500 })).length;

  beforeAll(async () => {
    if (skip) return;
    f = await coreFixture(name);
    web = await enroll('web-1');
    db = await enroll('db-1');
  });
  afterAll(async () => f?.close());

  it.skipIf(skip)('fires every command with the trigger, each on its own systems, with the body as environment', async () => {
    const a = await f.core.scripts.create(f.admin, {
      name: 'clean-web',
      content: 'echo $srcip',
      launch_type: 'trigger',
      trigger: 'disk-full',
      default_targets: { system_ids: [web] },
    });
    const b = await f.core.scripts.create(f.admin, {
      name: 'clean-db',
      content: 'echo $srcip',
      launch_type: 'trigger',
      trigger: 'disk-full',
      default_targets: { system_ids: [db] },
    });
    const outcome = await f.core.triggers.fire({ name: 'disk-full', body: '{"srcip": "10.1.1.1", "n": 3}', actor: f.admin });
    expect(outcome.triggered.sort()).toEqual([a.id, b.id].sort());
    for (const { commandId, jobId } of outcome.jobs) {
      const job = await f.core.jobs.get(f.admin, jobId);
      expect(job).toMatchObject({ source: 'trigger', scriptId: commandId, env: { srcip: '10.1.1.1', n: '3' }, content: 'echo $srcip' });
      const runs = await f.core.jobs.runs(f.admin, jobId);
      expect(runs.map((r) => r.systemId)).toEqual([commandId === a.id ? web : db]);
    }
  });

  it.skipIf(skip)('makes an unknown trigger, a bad body and a reserved variable clear errors that launch nothing', async () => {
    const before = await jobsOf();
    await expect(f.core.triggers.fire({ name: 'nothing-here', body: undefined, actor: f.admin })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'no command has the trigger nothing-here',
    });
    await expect(f.core.triggers.fire({ name: 'disk-full', body: '{"1x": "a"}', actor: f.admin })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'body.1x',
    });
    await expect(f.core.triggers.fire({ name: 'disk-full', body: '{"MUSTER_RUN_ID": "a"}', actor: f.admin })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'body.MUSTER_RUN_ID',
    });
    await expect(f.core.triggers.fire({ name: 'bad name!', body: undefined, actor: f.admin })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(f.core.triggers.fire({ name: 'disk-full', body: undefined, actor: viewer() })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(f.core.triggers.fire({ name: 'disk-full', body: undefined })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await jobsOf()).toBe(before);
  });

  it.skipIf(skip)("answers a repeated Idempotency-Key with the first call's jobs, launching nothing more", async () => {
    const first = await f.core.triggers.fire({ name: 'disk-full', body: '{}', actor: f.admin, idempotencyKey: 'alert-42' });
    const count = await jobsOf();
    const again = await f.core.triggers.fire({ name: 'disk-full', body: '{}', actor: f.admin, idempotencyKey: 'alert-42' });
    expect(again).toEqual({ ...first, replayed: true });
    expect(await jobsOf()).toBe(count);
    f.clock.advance(25 * 3600 * 1000);
    const later = await f.core.triggers.fire({ name: 'disk-full', body: '{}', actor: f.admin, idempotencyKey: 'alert-42' });
    expect(later.replayed).toBe(false);
    expect(await jobsOf()).toBe(count + 2);
  });

  it.skipIf(skip)('fires a trigger signed with its own secret, once; a wrong, stale or replayed signature is UNAUTHENTICATED', async () => {
    const { secret } = await f.core.triggers.create(f.admin, { name: 'disk-full', secret: true });
    await expect(f.core.triggers.create(f.admin, { name: 'disk-full' })).rejects.toMatchObject({ code: 'CONFLICT' });
    const t = Math.floor(f.clock.now().getTime() / 1000);
    const body = '{"srcip":"1.2.3.4"}';
    const signature = `t=${t},v1=${signTrigger(secret!, t, body)}`;
    const outcome = await f.core.triggers.fire({ name: 'disk-full', body, signature });
    expect(outcome.triggered).toHaveLength(2);
    expect((await f.core.jobs.get(f.admin, outcome.jobs[0]!.jobId)).createdBy).toMatch(/^trigger:/);
    await expect(f.core.triggers.fire({ name: 'disk-full', body, signature })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/replay/),
    });
    await expect(f.core.triggers.fire({ name: 'disk-full', body: '{"srcip":"6.6.6.6"}', signature })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/does not match/),
    });
    const old = t - 301;
    await expect(f.core.triggers.fire({ name: 'disk-full', body, signature: `t=${old},v1=${signTrigger(secret!, old, body)}` })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/300 s/),
    });
    await expect(f.core.triggers.fire({ name: 'disk-full', body, signature: 'v1=abc' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const other = { organizationId: 'another-org', role: 'admin' as const, label: 'x' };
    await expect(
      f.core.triggers.fire({ name: 'disk-full', body, signature: `t=${t},v1=${signTrigger(secret!, t, body)}`, organizationId: other.organizationId }),
    ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it.skipIf(skip)('launches run-on-enroll commands for a new system their targets cover, and no others', async () => {
    const all = await f.core.scripts.create(f.admin, {
      name: 'provision',
      content: 'echo hi',
      run_on_enroll: true,
      default_targets: { selector: 'hostname:new-' },
    });
    await f.core.scripts.create(f.admin, { name: 'not-me', content: 'echo no', run_on_enroll: true, default_targets: { selector: 'hostname:elsewhere' } });
    const fresh = await enroll('new-1');
    const jobs = (await f.core.jobs.list(f.admin, { limit: 500 })).filter((j) => j.source === 'enroll');
    expect(jobs.map((j) => j.scriptId)).toEqual([all.id]);
    expect((await f.core.jobs.runs(f.admin, jobs[0]!.id)).map((r) => r.systemId)).toEqual([fresh]);
  });

  it.skipIf(skip)('binds and unbinds systems; an unknown system or group is NOT_FOUND; a viewer cannot bind', async () => {
    const c = await f.core.scripts.create(f.admin, { name: 'bindme', content: 'true' });
    await f.core.commands.bind(f.admin, c.id, { op: 'add', type: 'system', id: web });
    await f.core.commands.bind(f.admin, c.id, { op: 'add', type: 'system', id: web });
    expect(await f.core.commands.bindings(f.admin, c.id)).toEqual({ systemIds: [web], groupIds: [] });
    expect(await f.core.commands.boundSystems(f.admin, c.id)).toEqual([{ systemId: web, groupId: null }]);
    await expect(f.core.commands.bind(f.admin, c.id, { op: 'add', type: 'system', id: 'ffffffffffffffffffffffff' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(f.core.commands.bind(f.admin, c.id, { op: 'add', type: 'group', id: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(f.core.commands.bind(viewer(), c.id, { op: 'remove', type: 'system', id: web })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await f.core.commands.bind(f.admin, c.id, { op: 'remove', type: 'system', id: web });
    expect((await f.core.commands.bindings(f.admin, c.id)).systemIds).toEqual([]);
  });

  it.skipIf(skip)('checks command fields: launch type, cron, time zone, trigger name and one-time instant', async () => {
    const bad = (input: Record<string, unknown>) => f.core.scripts.create(f.admin, { name: `x-${Math.random()}`, content: 'true', ...input });
    await expect(bad({ launch_type: 'sometimes' })).rejects.toMatchObject({ field: 'launch_type' });
    await expect(bad({ launch_type: 'repeated', schedule: '61 * * * *' })).rejects.toMatchObject({
      field: 'schedule',
      message: expect.stringMatching(/not a valid cron/),
    });
    await expect(bad({ launch_type: 'repeated', schedule: '* * * *' })).rejects.toMatchObject({ field: 'schedule' });
    await expect(bad({ launch_type: 'repeated' })).rejects.toMatchObject({ field: 'schedule' });
    await expect(bad({ launch_type: 'repeated', schedule: '0 3 * * *', timezone: 'Mars/Base' })).rejects.toMatchObject({ field: 'timezone' });
    await expect(bad({ launch_type: 'trigger' })).rejects.toMatchObject({ field: 'trigger' });
    await expect(bad({ launch_type: 'trigger', trigger: 'a b' })).rejects.toMatchObject({ field: 'trigger' });
    await expect(bad({ launch_type: 'one-time', run_at: 'tomorrow' })).rejects.toMatchObject({ field: 'run_at' });
    await expect(bad({ launch_type: 'one-time', run_at: '2020-01-01T00:00:00Z' })).rejects.toMatchObject({
      field: 'run_at',
      message: expect.stringMatching(/past/),
    });
    const ok = await bad({ launch_type: 'repeated', schedule: '0 0 3 * * *', timezone: 'Europe/Berlin' });
    expect(ok.nextFireAt).toMatch(/T02:00:00.000Z$/);
  });
});
