import { Migrator, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASES, createTestDatabase, type TestDatabase } from '../../../test/support/databases.js';
import type { Database } from '../dialect.js';
import { ingestQueueStore } from '../ingest/queue-store.js';
import { migrationProvider } from './index.js';

describe.each(DATABASES)('migration 0011 on $name', ({ name, skip }) => {
  let test: TestDatabase | undefined;
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    await test?.drop();
  });

  it.skipIf(skip)('moves queued payloads to ingest_payloads, keeps their commands claimable, and drops the old column', async () => {
    test = await createTestDatabase(name);
    const opened = (database = test.open());
    const migrator = new Migrator({ db: opened.db, provider: migrationProvider });
    expect((await migrator.migrateTo('0010-facts-from-json')).error).toBeUndefined();
    await sql`insert into organizations (id, slug, name, created_at) values ('o1', 'one', 'One', '2026-01-01T00:00:00Z')`.execute(database.db);
    const row = (id: string, state: string, payload: string | null) =>
      sql`insert into ingest_commands (id, organization_id, command, version, certname, producer_timestamp, payload, received_at, state, attempts, available_at)
          values (${id}, 'o1', 'replace facts', 5, 'web-1', '2026-01-01T00:00:00.000Z', ${payload}, '2026-01-01T00:00:00.000Z', ${state}, 0, '2026-01-01T00:00:00.000Z')`.execute(
        opened.db,
      );
    await row('queued-1', 'queued', '{"certname":"web-1"}');
    await row('done-1', 'done', null);
    expect((await migrator.migrateToLatest()).error).toBeUndefined();

    const payloads = await database.db.selectFrom('ingest_payloads').selectAll().execute();
    expect(payloads).toEqual([{ id: 'queued-1', payload: '{"certname":"web-1"}' }]);
    await expect(sql`select payload from ingest_commands`.execute(database.db)).rejects.toThrow();
    const queue = ingestQueueStore(database.db, database.capabilities, database.deferredSync);
    const claimed = await queue.claim({ limit: 10, now: '2026-01-02T00:00:00.000Z', leaseUntil: '2026-01-02T00:01:00.000Z' });
    expect(claimed.map((c) => [c.id, c.payload])).toEqual([['queued-1', '{"certname":"web-1"}']]);
    // Deleting a command deletes its payload with it.
    await database.db.deleteFrom('ingest_commands').where('id', '=', 'queued-1').execute();
    expect(await database.db.selectFrom('ingest_payloads').selectAll().execute()).toEqual([]);
  });
});
