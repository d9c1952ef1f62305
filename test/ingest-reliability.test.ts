import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { startServerProcess, waitFor, type ServerProcess } from './support/processes.js';

const facts = (certname: string, i: number) =>
  JSON.stringify({
    certname,
    environment: 'production',
    producer_timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    producer: 'p',
    values: { i, os: { family: 'Debian' } },
  });

/** Posts replace-facts commands from `clients` loops until the server dies; returns the uuids it accepted. */
async function stream(server: ServerProcess, clients: number, stopAfter: number, kill: () => void): Promise<string[]> {
  const accepted: string[] = [];
  let n = 0;
  let dead = false;
  const loop = async (c: number) => {
    while (!dead) {
      const i = n++;
      const certname = `rel-${c}-${i}`;
      try {
        const res = await fetch(`${server.url}/pdb/cmd/v1?command=replace_facts&version=5&certname=${certname}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
          body: facts(certname, i),
        });
        if (res.status === 200) accepted.push(((await res.json()) as { uuid: string }).uuid);
      } catch {
        dead = true; // the connection died with the server: this one got no 200
      }
      if (accepted.length >= stopAfter && !dead) {
        dead = true;
        kill();
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => loop(c)));
  return accepted;
}

describe.each(DATABASES)('SIGKILL while commands stream in, on $name', ({ name, skip }) => {
  let db: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.proc.stop('SIGKILL');
    await db?.drop();
  });

  it.skipIf(skip)(
    'loses no command that received a 200: after restart every one is processed',
    async () => {
      db = await createTestDatabase(name);
      // A short lease, so that on PostgreSQL (where replicas keep their leases) the killed claims are reclaimed soon.
      server = await startServerProcess(db, { MUSTER_INGEST_LEASE_MS: '2000' });
      const s = server;
      const accepted = await stream(s, 16, 400, () => s.proc.child.kill('SIGKILL'));
      expect((await s.proc.exited).signal).toBe('SIGKILL');
      expect(accepted.length).toBeGreaterThanOrEqual(400);
      await s.restart();
      const state = async (id: string) => {
        const res = await fetch(`${s.url}/v1/ingest/commands/${id}`, { headers: { authorization: `Bearer ${s.adminKey}` } });
        return res.status === 200 ? ((await res.json()) as { state: string }).state : `http ${res.status}`;
      };
      await waitFor(
        async () => {
          const counts = (await (await fetch(`${s.url}/v1/ingest/counts`, { headers: { authorization: `Bearer ${s.adminKey}` } })).json()) as Record<
            string,
            number
          >;
          return counts.queued === 0 && counts.processing === 0;
        },
        'the queue to drain after restart',
        60_000,
      );
      const states = await Promise.all(accepted.map(state));
      expect(states.filter((x) => x !== 'done')).toEqual([]);
      const nodes = (await (await fetch(`${s.url}/pdb/query/v4/nodes`, { headers: { authorization: `Bearer ${s.adminKey}` } })).json()) as unknown[];
      expect(nodes.length).toBeGreaterThanOrEqual(accepted.length);
    },
    120_000,
  );
});
