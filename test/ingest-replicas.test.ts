import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Actor, type Core } from '../src/core/index.js';
import { IngestWorkers } from '../src/core/ingest/index.js';
import { createStores, migrate, type Database } from '../src/store/index.js';
import { FakeClock } from './support/core.js';
import { createTestDatabase, PG_URL, type TestDatabase } from './support/databases.js';

/** Two "replicas" (cores over their own pools and LISTEN connections) sharing one PostgreSQL. */
describe.skipIf(!PG_URL)('ingest across replicas on postgres', () => {
  let test: TestDatabase;
  const dbs: Database[] = [];
  const cores: Core[] = [];
  let admin: Actor;
  let workers: IngestWorkers;

  beforeAll(async () => {
    test = await createTestDatabase('postgres');
    for (let i = 0; i < 2; i++) {
      const db = test.open();
      if (i === 0) await migrate(db.db);
      dbs.push(db);
      cores.push(
        createCore({
          stores: createStores(db),
          clock: new FakeClock(new Date()),
          ingestWaker: db.wake,
          notifier: { runsCreated: () => undefined, cancelRuns: () => undefined },
          limits: { scriptBytes: 1 << 20, outputBytes: 1 << 20 },
        }),
      );
    }
    const boot = await cores[0]!.organizations.bootstrap({});
    admin = await cores[0]!.keys.authenticate(boot.created!.apiKey);
    // Replica B processes; its polling is an hour apart, so only a NOTIFY from replica A can wake it in time.
    workers = new IngestWorkers(
      createStores(dbs[1]!).ingestQueue,
      cores[1]!.ingest,
      { now: () => new Date() },
      { count: 1, batch: 10, batchBytes: 1024 * 1024, leaseMs: 60_000, pollMs: 3_600_000, maxAttempts: 3, backoffMs: 100, lingerMs: 0, keepDoneMs: 3_600_000 },
      undefined,
      (err) => {
        throw err;
      },
    );
    // The LISTEN connection is up once a NOTIFY round-trips.
    let probe: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      dbs[1]!.wake!.subscribe((topic) => topic === 'probe' && resolve());
      probe = setInterval(() => void dbs[0]!.wake!.publish('probe', ''), 100);
    });
    clearInterval(probe);
    workers.start();
  });
  afterAll(async () => {
    await workers?.stop();
    for (const db of dbs) await db.close();
    await test?.drop();
  });

  it("wakes the other replica's workers with NOTIFY: a command queued on A is processed by B at once", async () => {
    const payload = JSON.stringify({ certname: 'r1', environment: null, producer_timestamp: '2026-11-23T10:00:00Z', producer: null, values: { a: 1 } });
    const { id } = await cores[0]!.ingest.submit(admin, { command: 'replace facts', version: 5, certname: 'r1', payload });
    expect(await cores[0]!.ingest.waitFor(admin, id, 10_000)).toEqual({ processed: true, timedOut: false });
    expect((await cores[0]!.ingest.factsets(admin, 'r1'))[0]!.values).toEqual({ a: 1 });
  });
});
