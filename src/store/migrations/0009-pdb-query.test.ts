import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from '../../../test/support/databases.js';
import type { Database } from '../dialect.js';
import { migrate } from '../dialect.js';
import { migrationProvider } from './index.js';

describe.each(DATABASES)('migration 0009-pdb-query on $name', ({ name, skip }) => {
  let test: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    if (skip) return;
    test = await createTestDatabase(name);
    database = test.open();
  });
  afterAll(async () => {
    if (skip) return;
    await database.close();
    await test.drop();
  });

  it.skipIf(skip)('derives fact, fact-content and resource rows from data stored before it', async () => {
    const { db } = database;
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo('0007-ingest');
    expect(error).toBeUndefined();
    await db.insertInto('organizations').values({ id: 'o1', slug: 'o1', name: 'O', created_at: '2026-01-01T00:00:00.000Z' }).execute();
    await db.insertInto('ingest_nodes').values({ organization_id: 'o1', certname: 'a', facts: JSON.stringify({ os: { family: 'Debian' }, n: 1 }), facts_hash: 'h' }).execute();
    await db.insertInto('ingest_nodes').values({ organization_id: 'o1', certname: 'b' }).execute();
    const body = { environment: 'production', resources: [{ type: 'File', title: '/x', tags: [], exported: false, parameters: { ensure: 'file' } }] };
    await db.insertInto('ingest_catalogs').values({ organization_id: 'o1', certname: 'a', hash: 'c', producer_timestamp: 't', received_at: 't', body: JSON.stringify(body) }).execute();
    await migrate(db);
    expect(await db.selectFrom('ingest_facts').select(['certname', 'name', 'value']).orderBy('name').execute()).toEqual([
      { certname: 'a', name: 'n', value: '1' },
      { certname: 'a', name: 'os', value: '{"family":"Debian"}' },
    ]);
    expect(await db.selectFrom('ingest_fact_contents').select(['path', 'value_string']).where('name', '=', 'os').execute()).toEqual([{ path: '["os","family"]', value_string: 'Debian' }]);
    expect(await db.selectFrom('ingest_resources').select(['certname', 'type', 'title', 'environment']).execute()).toEqual([{ certname: 'a', type: 'File', title: '/x', environment: 'production' }]);
  });
});
