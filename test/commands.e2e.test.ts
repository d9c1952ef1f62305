import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTrigger } from '../src/core/commands/index.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { muster, startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';

const run = promisify(execFile);

describe.each(DATABASES)('commands end to end on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let agents: AgentProcess[] = [];
  let viewerKey: string;
  let otherKey: string;
  const api = (method: string, path: string, body?: unknown) => call(server.url, server.adminKey, method, path, body);
  const jc = (key: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    call(server.url, undefined, method, `/api${path}`, body, { ...(key ? { 'x-api-key': key } : {}), ...headers });

  async function finished(jobId: string): Promise<any> {
    return waitFor(
      async () => {
        const { body } = await api('GET', `/v1/jobs/${jobId}`);
        return body.done ? body : undefined;
      },
      `job ${jobId} to finish`,
      30_000,
    );
  }

  async function command(body: Record<string, unknown>, systemIds: string[]): Promise<string> {
    const created = await jc(server.adminKey, 'POST', '/commands', { commandType: 'linux', user: '000000000000000000000000', ...body });
    expect(created.status).toBe(200);
    for (const id of systemIds)
      expect((await jc(server.adminKey, 'POST', `/v2/commands/${created.body._id}/associations`, { op: 'add', type: 'system', id })).status).toBe(204);
    return created.body._id;
  }

  beforeAll(async () => {
    if (skip) return;
    db = await createTestDatabase(name);
    server = await startServerProcess(db);
    agents = [await startAgentProcess(server), await startAgentProcess(server)];
    await waitFor(async () => {
      const { body } = await api('GET', '/v1/systems');
      return agents.every((a) => body.items.some((s: { id: string; connected: boolean }) => s.id === a.systemId && s.connected));
    }, 'agents to connect');
    viewerKey = (await api('POST', '/v1/api-keys', { name: 'viewer', role: 'viewer' })).body.secret;
    otherKey = (await api('POST', '/v1/organizations', { name: 'Other', slug: 'other' })).body.api_key;
  });

  afterAll(async () => {
    for (const a of agents) await a.proc.stop();
    await server?.proc.stop();
    await db?.drop();
  });

  it.skipIf(skip)("runs the reference's curl call: top-level keys reach the script's environment, objects as [object Object]", async () => {
    const id = await command({ name: 'block-ip', command: 'echo "srcip=$srcip"; echo "test=$test"', launchType: 'trigger', trigger: 'myTriggerName' }, [
      agents[0]!.systemId,
    ]);
    const { stdout } = await run('curl', [
      '--silent',
      '-X',
      'POST',
      '-H',
      `x-api-key: ${server.adminKey}`,
      '-H',
      'Content-Type: application/json',
      '-d',
      '{ "srcip":"192.168.2.32", "test":{ "bob":"1", "jane":"3"} }',
      `${server.url}/api/command/trigger/myTriggerName`,
    ]);
    const answer = JSON.parse(stdout);
    expect(answer.triggered).toEqual([id]);
    await finished(answer.jobs[0].jobId);
    const results = await jc(viewerKey, 'GET', '/commandresults');
    const listed = results.body.results.find((r: { workflowInstanceId: string }) => r.workflowInstanceId === answer.jobs[0].jobId);
    expect(listed).toMatchObject({ name: 'block-ip', systemId: agents[0]!.systemId, workflowId: id, exitCode: 0, files: [] });
    // JumpCloud's list model has no output; the result itself has it.
    expect(listed).not.toHaveProperty('response');
    const result = await jc(viewerKey, 'GET', `/commandresults/${listed.id}`);
    expect(result.body).toMatchObject({
      command: 'echo "srcip=$srcip"; echo "test=$test"',
      name: 'block-ip',
      systemId: agents[0]!.systemId,
      system: expect.any(String),
      requestTime: expect.any(String),
      responseTime: expect.any(String),
      response: { id: listed.id, data: { output: 'srcip=192.168.2.32\ntest=[object Object]\n', exitCode: 0 }, error: '' },
    });
    expect(result.body).toMatchObject({ exitCode: 0, files: [] });
    expect((await jc(otherKey, 'GET', `/commandresults/${listed.id}`)).status).toBe(404);
    expect((await jc(viewerKey, 'DELETE', `/commandresults/${listed.id}`)).status).toBe(403);
    expect((await jc(server.adminKey, 'DELETE', `/commandresults/${listed.id}`)).status).toBe(200);
    expect((await jc(viewerKey, 'GET', `/commandresults/${listed.id}`)).status).toBe(404);
  });

  it.skipIf(skip)("shows each of a real agent's addresses with the name of its interface", async () => {
    const { body } = await jc(viewerKey, 'GET', `/systems/${agents[0]!.systemId}/`);
    expect(body).toMatchObject({ _id: agents[0]!.systemId, id: agents[0]!.systemId });
    // The agent runs on this machine, so it sees the interfaces this process sees.
    const { networkInterfaces } = await import('node:os');
    const here = Object.entries(networkInterfaces()).flatMap(([name, list]) => (list ?? []).filter((a) => !a.internal).map((a) => `${name} ${a.address}`));
    expect(body.networkInterfaces.map((n: { name: string; address: string }) => `${n.name} ${n.address}`).sort()).toEqual(here.sort());
  });

  it.skipIf(skip)('starts two commands with one trigger in parallel, each on its own system', async () => {
    const [a, b] = agents.map((x) => x.systemId) as [string, string];
    const first = await command({ name: 'cleanup-a', command: 'sleep 1; echo "a $DISK"', launchType: 'trigger', trigger: 'diskFull' }, [a]);
    const second = await command({ name: 'cleanup-b', command: 'sleep 1; echo "b $DISK"', launchType: 'trigger', trigger: 'diskFull' }, [b]);
    const fired = await jc(server.adminKey, 'POST', '/command/trigger/diskFull', { DISK: '/var' });
    expect(fired.body.triggered.sort()).toEqual([first, second].sort());
    const runs = [];
    for (const { commandId, jobId } of fired.body.jobs) {
      expect((await finished(jobId)).status).toBe('succeeded');
      const [r] = (await api('GET', `/v1/jobs/${jobId}/runs`)).body.items;
      expect(r.system_id).toBe(commandId === first ? a : b);
      expect((await api('GET', `/v1/runs/${r.id}`)).body.stdout).toBe(`${commandId === first ? 'a' : 'b'} /var\n`);
      runs.push({ start: Date.parse(r.started_at), end: Date.parse(r.finished_at) });
    }
    // In parallel: each started before the other finished.
    expect(runs[0]!.start).toBeLessThan(runs[1]!.end);
    expect(runs[1]!.start).toBeLessThan(runs[0]!.end);
  });

  it.skipIf(skip)('fires a trigger signed with its secret once, and an Idempotency-Key retry launches nothing new', async () => {
    await command({ name: 'signed', command: 'echo signed', launchType: 'trigger', trigger: 'monitor' }, [agents[0]!.systemId]);
    const secret = (await api('POST', '/v1/triggers', { name: 'monitor', secret: true })).body.secret;
    const body = '{"alert":"disk"}';
    const t = Math.floor(Date.now() / 1000);
    const signature = `t=${t},v1=${signTrigger(secret, t, body)}`;
    const signed = await jc(undefined, 'POST', '/command/trigger/monitor', body, { 'x-muster-signature': signature, 'content-type': 'application/json' });
    expect(signed.status).toBe(200);
    expect((await finished(signed.body.jobs[0].jobId)).status).toBe('succeeded');
    expect((await jc(undefined, 'POST', '/command/trigger/monitor', body, { 'x-muster-signature': signature })).status).toBe(401);
    const jobsBefore = (await api('GET', '/v1/jobs?limit=500')).body.items.length;
    const once = await jc(server.adminKey, 'POST', '/command/trigger/monitor', '{}', { 'idempotency-key': 'alert-7' });
    const twice = await jc(server.adminKey, 'POST', '/command/trigger/monitor', '{}', { 'idempotency-key': 'alert-7' });
    expect(twice.body).toEqual(once.body);
    expect((await api('GET', '/v1/jobs?limit=500')).body.items.length).toBe(jobsBefore + 1);
  });

  it.skipIf(skip)('keeps unnamed fields on PUT, and refuses no key, a viewer and another organization', async () => {
    const id = await command({ name: 'keep', command: 'echo keep', launchType: 'trigger', trigger: 'keepme', timeout: '45', commandType: 'mac' }, []);
    const before = (await jc(viewerKey, 'GET', `/commands/${id}`)).body;
    const after = (await jc(server.adminKey, 'PUT', `/commands/${id}`, { command: 'echo kept' })).body;
    expect(after).toEqual({ ...before, command: 'echo kept' });
    expect((await jc(undefined, 'PUT', `/commands/${id}`, { name: 'x' })).status).toBe(401);
    expect((await jc(viewerKey, 'PUT', `/commands/${id}`, { name: 'x' })).status).toBe(403);
    expect((await jc(otherKey, 'PUT', `/commands/${id}`, { name: 'x' })).status).toBe(404);
  });

  it.skipIf(skip)('runs a run-on-enroll command on a newly enrolled agent its targets cover', async () => {
    const created = await api('POST', '/v1/commands', {
      name: 'provision',
      content: 'echo "provisioned $MUSTER_SYSTEM_ID"',
      run_on_enroll: true,
      default_targets: { selector: 'tag:fresh' },
    });
    expect(created.status).toBe(201);
    const fresh = await startAgentProcess(server, ['fresh']);
    agents.push(fresh);
    const job = await waitFor(
      async () =>
        (await api('GET', '/v1/jobs?limit=50')).body.items.find(
          (j: { source: string; script_id: string }) => j.source === 'enroll' && j.script_id === created.body.id,
        ),
      'the enroll job',
    );
    const done = await finished(job.id);
    expect(done).toMatchObject({ status: 'succeeded', total: 1 });
    const [r] = (await api('GET', `/v1/jobs/${job.id}/runs`)).body.items;
    expect(r.system_id).toBe(fresh.systemId);
    expect((await api('GET', `/v1/runs/${r.id}`)).body.stdout).toMatch(/^provisioned/);
  });

  it.skipIf(skip)('saves, lists, shows and runs a script from the CLI with `muster run --script`', async () => {
    const env = { MUSTER_SERVER: server.url, MUSTER_API_KEY: server.adminKey, MUSTER_CLI_CONFIG: `${db.dataDir}/cli.json` };
    const { writeFileSync } = await import('node:fs');
    const file = `${db.dataDir}/hello.sh`;
    writeFileSync(file, 'echo "hello from $(hostname)"\n');
    const add = await muster(['scripts', 'add', '--name', 'hello', '--file', file, '--system', agents[0]!.systemId, '--timeout', '30'], env);
    expect(add.code, add.stderr).toBe(0);
    expect((await muster(['scripts', 'show', 'hello'], env)).stdout).toBe('echo "hello from $(hostname)"\n');
    expect((await muster(['scripts', 'list'], env)).stdout).toMatch(/hello\s+bash\s+1 system/);
    const ran = await muster(['run', '--script', 'hello'], env);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/hello from /);
    expect(ran.stdout).toMatch(/1 succeeded/);
    expect((await muster(['scripts', 'edit', 'hello', '--timeout', '5'], env)).code).toBe(0);
    expect(JSON.parse((await muster(['scripts', 'show', 'hello', '--json'], env)).stdout)).toMatchObject({
      timeout_s: 5,
      content: 'echo "hello from $(hostname)"\n',
    });
    expect((await muster(['scripts', 'rm', 'hello'], env)).code).toBe(0);
    const fired = await muster(['trigger', 'diskFull', '--data', '{"DISK":"/srv"}', '--json'], env);
    expect(fired.code, fired.stderr).toBe(0);
    const answer = JSON.parse(fired.stdout);
    expect(answer.triggered).toHaveLength(2);
    for (const j of answer.jobs) expect((await finished(j.job_id)).env).toEqual({ DISK: '/srv' });
    const listed = await muster(['commands', 'list'], env);
    expect(listed.stdout).toMatch(/cleanup-a\s+trigger diskFull/);
    expect((await muster(['trigger', 'noSuchTrigger'], env)).stderr).toBe('error: no command has the trigger noSuchTrigger\n');
  });
});
