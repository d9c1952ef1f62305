import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceScript } from './fixtures/system-context-reference.js';
import { createTestDatabase, DATABASES, PG_URL, type TestDatabase } from './support/databases.js';
import { muster, Proc, startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';

/** Runs the reference script (bash, openssl, curl) and parses curl -i's answer. */
async function runReference(
  agent: AgentProcess,
  server: ServerProcess,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: any; raw: string }> {
  const script = referenceScript(agent.stateDir, server.url, method, path, body);
  const proc = new Proc(spawn('bash', ['-c', script], { env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] }));
  const { code } = await proc.exited;
  if (code !== 0) throw new Error(`reference script failed (${code}): ${proc.stderr}`);
  const [head = '', ...rest] = proc.stdout.split(/\r?\n\r?\n/);
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1]);
  const text = rest.join('\n\n');
  return { status, body: text ? JSON.parse(text) : undefined, raw: proc.stdout };
}

describe.each(DATABASES)('System Context end to end on $name: the reference bash script and the agent', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let me: AgentProcess;
  let other: AgentProcess;
  let groupId: string;
  const api = (method: string, path: string, body?: unknown) => call(server.url, server.adminKey, method, path, body);

  beforeAll(async () => {
    if (skip) return;
    db = await createTestDatabase(name);
    server = await startServerProcess(db);
    me = await startAgentProcess(server, ['asg']);
    other = await startAgentProcess(server);
    groupId = (await api('POST', '/v1/groups', { name: 'web-fleet' })).body.id;
    await waitFor(async () => (await api('GET', `/v1/systems/${me.systemId}`)).body.connected, 'the agent to connect');
  });

  afterAll(async () => {
    await me?.proc.stop();
    await other?.proc.stop();
    await server?.proc.stop();
    await db?.drop();
  });

  it.skipIf(skip)('the state dir holds what the reference script reads', () => {
    expect(readFileSync(join(me.stateDir, 'agent.conf'), 'utf8')).toMatch(/systemKey":"(\w+)"/);
    expect(readFileSync(join(me.stateDir, 'jcagent.conf'), 'utf8')).toBe(readFileSync(join(me.stateDir, 'agent.conf'), 'utf8'));
    expect(readFileSync(join(me.stateDir, 'client.key'), 'utf8')).toContain('BEGIN RSA PRIVATE KEY');
  });

  it.skipIf(skip)('GET own record, with the facts the agent reported', async () => {
    const res = await runReference(me, server, 'GET', '/api/systems/${systemKey}');
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toMatchObject({ _id: me.systemId, tags: ['asg'], active: true, os: process.platform, arch: process.arch });
    expect(res.body.agentVersion).toBeTruthy();
    expect(res.body.firstContact).toBeTruthy();
    expect(res.body.lastContact).toBeTruthy();
    expect(res.body.remoteIP).toBe('127.0.0.1');
  });

  it.skipIf(skip)('PUT displayName, exactly as the reference example does', async () => {
    const res = await runReference(me, server, 'PUT', '/api/systems/${systemKey}', '{"displayName" : "updated-system-name-1"}');
    expect(res.status, res.raw).toBe(200);
    expect(res.body.displayName).toBe('updated-system-name-1');
    expect((await api('GET', `/v1/systems/${me.systemId}`)).body.display_name).toBe('updated-system-name-1');
  });

  it.skipIf(skip)('GET another system → 401', async () => {
    const res = await runReference(me, server, 'GET', `/api/systems/${other.systemId}`);
    expect(res.status, res.raw).toBe(401);
    expect(res.body.message).toContain('own record');
  });

  it.skipIf(skip)('adding another system to a group → 401; adding itself works', async () => {
    const theirs = await runReference(me, server, 'POST', `/api/v2/systemgroups/${groupId}/members`, `{"op":"add","type":"system","id":"${other.systemId}"}`);
    expect(theirs.status, theirs.raw).toBe(401);
    const mine = await runReference(me, server, 'POST', `/api/v2/systemgroups/${groupId}`, '{"op":"add","type":"system","id":"${systemKey}"}');
    expect(mine.status, mine.raw).toBe(204);
    expect((await api('GET', `/v1/groups/${groupId}/members`)).body.items).toEqual([me.systemId]);
  });

  it.skipIf(skip)('muster agent self, self set, join-group, leave-group', async () => {
    const env = { MUSTER_STATE_DIR: other.stateDir };
    const self = await muster(['agent', 'self'], env);
    expect(self.code, self.stderr).toBe(0);
    expect(JSON.parse(self.stdout)._id).toBe(other.systemId);
    const set = await muster(['agent', 'self', 'set', '--display-name', 'db-primary', '--tag', 'a', '--tag', 'b', '--attribute', 'rack=r7'], env);
    expect(set.code, set.stderr).toBe(0);
    expect((await api('GET', `/v1/systems/${other.systemId}`)).body).toMatchObject({
      display_name: 'db-primary',
      tags: ['a', 'b'],
      attributes: { rack: 'r7' },
    });
    expect((await muster(['agent', 'join-group', 'web-fleet'], env)).code).toBe(0);
    expect((await api('GET', `/v1/groups/${groupId}/members`)).body.items).toContain(other.systemId);
    expect((await muster(['agent', 'leave-group', groupId], env)).code).toBe(0);
    expect((await api('GET', `/v1/groups/${groupId}/members`)).body.items).not.toContain(other.systemId);
    const missing = await muster(['agent', 'join-group', 'no-such-group'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404');
  });

  it.skipIf(skip)('DELETE itself → its signatures answer 401, its agent is disconnected and stops, its runs stay', async () => {
    const job = await api('POST', '/v1/jobs', { content: 'echo still here', targets: { system_ids: [me.systemId] } });
    await waitFor(async () => (await api('GET', `/v1/jobs/${job.body.job.id}`)).body.done, 'the job to finish');
    const gone = await runReference(me, server, 'DELETE', '/api/systems/${systemKey}');
    expect(gone.status, gone.raw).toBe(200);
    expect(gone.body._id).toBe(me.systemId);
    expect(await me.proc.exited).toEqual({ code: 0, signal: null });
    expect(me.proc.stdout + me.proc.stderr).toContain('this system was deleted on the server');
    const after = await runReference(me, server, 'GET', '/api/systems/${systemKey}');
    expect(after.status, after.raw).toBe(401);
    const run = await api('GET', `/v1/runs/${job.body.runs[0].id}`);
    expect(run.body).toMatchObject({ state: 'succeeded', stdout: 'still here\n' });
  });

  it.skipIf(skip)('contrib/system-context/system-context.sh fetches and changes the own record', async () => {
    const script = join(import.meta.dirname, '..', 'contrib', 'system-context', 'system-context.sh');
    const run = async (...args: string[]) => {
      const proc = new Proc(
        spawn('bash', [script, ...args], {
          env: { ...process.env, MUSTER_STATE_DIR: other.stateDir, MUSTER_SERVER: server.url },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      expect((await proc.exited).code, proc.stderr).toBe(0);
      return JSON.parse(proc.stdout);
    };
    expect((await run())._id).toBe(other.systemId);
    expect((await run('PUT', '/api/systems/${systemKey}', '{"description":"from contrib"}')).description).toBe('from contrib');
  });

  it.skipIf(skip)('muster agent deregister deletes the system and forgets its identity', async () => {
    const res = await muster(['agent', 'deregister'], { MUSTER_STATE_DIR: other.stateDir });
    expect(res.code, res.stderr).toBe(0);
    expect(await other.proc.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(join(other.stateDir, 'agent.conf'))).toBe(false);
    expect((await api('GET', `/v1/systems/${other.systemId}`)).status).toBe(404);
  });
});

describe.skipIf(!PG_URL)('System Context across replicas on postgres', () => {
  it('a system deleted through one replica loses its agent connection on another', async () => {
    const db = await createTestDatabase('postgres');
    const a = await startServerProcess(db);
    const b = await startServerProcess(db);
    const agent = await startAgentProcess(a);
    try {
      await waitFor(async () => (await call(a.url, a.adminKey, 'GET', `/v1/systems/${agent.systemId}`)).body.connected, 'the agent to connect to replica A');
      // Replica B bootstrapped nothing (the organization existed): A's key works on both.
      const gone = await runReference(agent, b, 'DELETE', '/api/systems/${systemKey}');
      expect(gone.status, gone.raw).toBe(200);
      expect(await agent.proc.exited).toEqual({ code: 0, signal: null });
    } finally {
      await agent.proc.stop();
      await a.proc.stop();
      await b.proc.stop();
      await db.drop();
    }
  });
});
