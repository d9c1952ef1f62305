import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/store/index.js';
import { createTestDatabase, DATABASES, PG_URL, type TestDatabase } from './support/databases.js';
import { AGENT_ENV, freePort, muster, musterDaemon, startServerProcess, waitFor, type Proc, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';

/** Enrolls a state dir with these server addresses, in order, and starts its agent. */
async function enrollWith(servers: string[], enrollmentKey: string): Promise<{ stateDir: string; systemId: string; proc: Proc }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'muster-agent-'));
  const enrolled = await muster(['agent', 'enroll', ...servers.flatMap((s) => ['--server', s]), '--enrollment-key', enrollmentKey, '--state-dir', stateDir]);
  expect(enrolled.code, enrolled.stderr).toBe(0);
  const conf = JSON.parse(readFileSync(join(stateDir, 'agent.conf'), 'utf8'));
  expect(conf).toMatchObject({ server: servers[0], servers });
  return { stateDir, systemId: conf.systemKey, proc: musterDaemon(['agent', 'run', '--state-dir', stateDir], AGENT_ENV(stateDir)) };
}

describe.each(DATABASES)('an agent given several server addresses, on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let agent: Awaited<ReturnType<typeof enrollWith>> | undefined;

  beforeAll(async () => {
    if (skip) return;
    db = await createTestDatabase(name);
    server = await startServerProcess(db);
  });

  afterAll(async () => {
    await agent?.proc.stop();
    await server?.proc.stop();
    await db?.drop();
  });

  it.skipIf(skip)('enrolls through the first that answers and connects past one that cannot be reached', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    agent = await enrollWith([dead, server.url], server.enrollmentKey);
    await agent.proc.waitForOutput(/connected to the server/);
    const { status, body } = await call(server.url, server.adminKey, 'POST', '/v1/jobs', {
      content: 'echo reached',
      targets: { system_ids: [agent.systemId] },
    });
    expect(status).toBe(201);
    await waitFor(async () => (await call(server.url, server.adminKey, 'GET', `/v1/jobs/${body.job.id}`)).body.done, 'the job to end');
    expect((await call(server.url, server.adminKey, 'GET', `/v1/runs/${body.runs[0].id}`)).body).toMatchObject({ state: 'succeeded', stdout: 'reached\n' });
    expect(agent.proc.stdout + agent.proc.stderr).toContain(`"server":"${dead}"`);
  });
});

describe.skipIf(!PG_URL)('an agent moving between replicas on PostgreSQL', () => {
  let db: TestDatabase;
  let store: Database;
  let a: ServerProcess;
  let b: ServerProcess;
  let agent: Awaited<ReturnType<typeof enrollWith>>;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    store = db.open();
    a = await startServerProcess(db, { MUSTER_REPLICA_ID: 'replica-a', MUSTER_LOST_GRACE_S: '30' });
    b = await startServerProcess(db, {
      MUSTER_REPLICA_ID: 'replica-b',
      MUSTER_BOOTSTRAP_API_KEY: a.adminKey,
      MUSTER_BOOTSTRAP_ENROLLMENT_KEY: a.enrollmentKey,
      MUSTER_LOST_GRACE_S: '30',
    });
    agent = await enrollWith([a.url, b.url], a.enrollmentKey);
  });

  afterAll(async () => {
    await agent?.proc.stop();
    await a?.proc.stop();
    await b?.proc.stop();
    await store?.close();
    await db?.drop();
  });

  const holder = async () =>
    (await store.db.selectFrom('systems').select('replica_id').where('id', '=', agent.systemId).where('connected', '=', 1).executeTakeFirst())?.replica_id;

  it('a replica killed mid-run: the agent reconnects to the next address, and its run ends once, reported there', async () => {
    await waitFor(async () => (await holder()) === 'replica-a', 'the agent to connect to the first replica');
    const dir = mkdtempSync(join(tmpdir(), `muster-replicas-${randomUUID()}`));
    const launched = await call(b.url, a.adminKey, 'POST', '/v1/jobs', {
      content: `echo start >> ${dir}/ran; sleep 2; echo done >> ${dir}/ran; echo finished`,
      targets: { system_ids: [agent.systemId] },
    });
    expect(launched.status).toBe(201);
    const runId = launched.body.runs[0].id as string;
    await waitFor(async () => (await call(b.url, a.adminKey, 'GET', `/v1/runs/${runId}`)).body.state === 'running', 'the run to start');

    await a.proc.stop('SIGKILL');
    await waitFor(async () => (await holder()) === 'replica-b', 'the agent to reconnect to the second replica', 30_000);
    await waitFor(async () => (await call(b.url, a.adminKey, 'GET', `/v1/jobs/${launched.body.job.id}`)).body.done, 'the job to end', 30_000);
    expect((await call(b.url, a.adminKey, 'GET', `/v1/runs/${runId}`)).body).toMatchObject({ state: 'succeeded', stdout: 'finished\n' });
    expect(readFileSync(join(dir, 'ran'), 'utf8')).toBe('start\ndone\n');
    rmSync(dir, { recursive: true, force: true });
  }, 90_000);
});
