import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../src/config/server.js';
import { startServer, type RunningServer } from '../src/server.js';
import { createTestDatabase, DATABASES, PG_URL, type TestDatabase } from './support/databases.js';
import { FakeAgent } from './support/fake-agent.js';
import { waitFor } from './support/processes.js';
import { call } from './support/server.js';

const NEVER = 3_600_000;

interface Replica {
  url: string;
  server: RunningServer;
}

/** A server in this process over `db`, with the hub's replica id, sweep and leases as given. */
async function replica(
  db: TestDatabase,
  keys: { admin: string; enroll: string },
  hub: { replicaId: string; pollIntervalMs?: number; leaseMs?: number; renewIntervalMs?: number },
): Promise<Replica> {
  const config = loadServerConfig(
    {
      listen: '127.0.0.1:0',
      data_dir: db.dataDir,
      database_url: db.url,
      log_level: 'silent',
      bootstrap_api_key: keys.admin,
      bootstrap_enrollment_key: keys.enroll,
    },
    {},
  );
  const server = await startServer(config, undefined, { hub });
  return { url: server.url, server };
}

function newKeys(): { admin: string; enroll: string } {
  return { admin: `mk_test_${randomBytes(16).toString('hex')}`, enroll: `mek_test_${randomBytes(16).toString('hex')}` };
}

/** A counter's value from /metrics (0 while never incremented). */
async function metric(url: string, line: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return Number(new RegExp(`^${escaped} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

describe.each(DATABASES)('presence of agents on $name', ({ name, skip }) => {
  let db: TestDatabase;
  const keys = newKeys();

  beforeAll(async () => {
    if (!skip) db = await createTestDatabase(name);
  });
  afterAll(async () => db?.drop());

  const connected = async (url: string, id: string) => (await call(url, keys.admin, 'GET', `/v1/systems/${id}`)).body.connected as boolean;

  it.skipIf(skip)('a connected agent holds a lease that ends when the server shuts down cleanly', async () => {
    const r = await replica(db, keys, { replicaId: 'replica-solo' });
    const agent = await FakeAgent.enroll(r.url, keys.enroll, 'solo');
    try {
      await agent.connect();
      await waitFor(async () => connected(r.url, agent.systemId), 'the agent to connect');
      const system = (await call(r.url, keys.admin, 'GET', `/v1/systems/${agent.systemId}`)).body;
      expect(system.connected).toBe(true);
    } finally {
      await r.server.stop();
      await agent.close();
    }
    const database = db.open();
    try {
      const row = await database.db
        .selectFrom('systems')
        .select(['replica_id', 'lease_expires_at', 'connected'])
        .where('id', '=', agent.systemId)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ replica_id: null, lease_expires_at: null, connected: 0 });
    } finally {
      await database.close();
    }
  });

  it.skipIf(skip)('an agent whose lease is not renewed stops counting as connected when it expires', async () => {
    // The lease lasts 1.5 s and is never renewed: as if the replica had died holding it.
    const r = await replica(db, keys, { replicaId: 'replica-short', leaseMs: 1500, renewIntervalMs: NEVER });
    const agent = await FakeAgent.enroll(r.url, keys.enroll, 'short');
    try {
      await agent.connect();
      await waitFor(async () => connected(r.url, agent.systemId), 'the agent to connect');
      await waitFor(async () => !(await connected(r.url, agent.systemId)), 'the lease to expire', 10_000);
      expect(agent.socket!.readyState).toBe(agent.socket!.OPEN);
    } finally {
      await agent.close();
      await r.server.stop();
    }
  });
});

/** Two replicas over one PostgreSQL, an agent on each, and no sweep: only a wake-up can deliver in time. */
describe.skipIf(!PG_URL)('wake-ups reach only the replica holding the target, on postgres', () => {
  let db: TestDatabase;
  const keys = newKeys();
  let a: Replica;
  let b: Replica;
  let onA: FakeAgent;
  let onB: FakeAgent;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    a = await replica(db, keys, { replicaId: 'replica-a', pollIntervalMs: NEVER });
    b = await replica(db, keys, { replicaId: 'replica-b', pollIntervalMs: NEVER });
    onA = await FakeAgent.enroll(a.url, keys.enroll, 'on-a');
    onB = await FakeAgent.enroll(b.url, keys.enroll, 'on-b');
    await onA.connect();
    await onB.connect();
    const held = async () => {
      const rows = (await call(a.url, keys.admin, 'GET', '/v1/systems')).body.items as Array<{ id: string; connected: boolean }>;
      return rows.filter((s) => s.connected).length === 2;
    };
    await waitFor(held, 'both agents to connect');
    // Both replicas listen once their LISTEN sessions show.
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      await waitFor(
        async () => (await admin.query("select 1 from pg_stat_activity where datname = current_database() and query ilike 'listen %'")).rowCount === 2,
        'both replicas to LISTEN',
      );
    } finally {
      await admin.end();
    }
  });
  afterAll(async () => {
    await onA?.close();
    await onB?.close();
    await a?.server.stop();
    await b?.server.stop();
    await db?.drop();
  });

  it("a launch on B to a system held by A wakes A's delivery; B re-reads nothing and A only that system", async () => {
    const launched = await call(b.url, keys.admin, 'POST', '/v1/jobs', { content: 'echo hi', targets: { system_ids: [onA.systemId] } });
    expect(launched.status).toBe(201);
    const delivered = await onA.next('run.deliver');
    expect(delivered.job_id).toBe(launched.body.job.id);
    expect(await metric(a.url, 'muster_hub_wakeups_total{kind="targeted"}')).toBe(1);
    for (const r of [a, b]) {
      expect(await metric(r.url, 'muster_hub_pending_scans_total{reason="wake"}')).toBe(0);
      expect(await metric(r.url, 'muster_hub_pending_scans_total{reason="sweep"}')).toBe(0);
      expect(await metric(r.url, 'muster_hub_wakeups_total{kind="broadcast"}')).toBe(0);
    }
    expect(await metric(b.url, 'muster_hub_wakeups_total{kind="targeted"}')).toBe(0);
    expect(onB.received.filter((m) => m.type === 'run.deliver')).toEqual([]);
  });

  it("and the other way round: a launch on A to B's system wakes B only", async () => {
    const launched = await call(a.url, keys.admin, 'POST', '/v1/jobs', { content: 'echo hi', targets: { system_ids: [onB.systemId] } });
    expect(launched.status).toBe(201);
    expect((await onB.next('run.deliver')).job_id).toBe(launched.body.job.id);
    expect(await metric(b.url, 'muster_hub_wakeups_total{kind="targeted"}')).toBe(1);
    expect(await metric(a.url, 'muster_hub_wakeups_total{kind="targeted"}')).toBe(1);
    for (const r of [a, b]) expect(await metric(r.url, 'muster_hub_pending_scans_total{reason="wake"}')).toBe(0);
  });
});
