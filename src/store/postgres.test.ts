import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, PG_URL, type TestDatabase } from '../../test/support/databases.js';
import type { Database } from './dialect.js';
import { migrate } from './index.js';
import { isPlainRead, openPostgres } from './postgres.js';
import type { Schema } from './schema.js';

describe('which statements count as plain reads (the bounded pool)', () => {
  const builder = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: {} as never }) });
  const compiled = (q: { compile(): CompiledQuery }) => q.compile();

  it('takes SELECTs and raw select text, and leaves locks, writes, data-modifying CTEs and other raw SQL to the main pool', () => {
    expect(isPlainRead(compiled(builder.selectFrom('systems').select('id').where('hostname', '~', 'x')))).toBe(true);
    expect(isPlainRead(sql`select id from systems where hostname ~ ${'x'}`.compile(builder))).toBe(true);
    expect(isPlainRead(sql`  with t as (select 1) select * from t`.compile(builder))).toBe(true);
    expect(isPlainRead(compiled(builder.selectFrom('ingest_commands').select('id').forUpdate().skipLocked()))).toBe(false);
    expect(isPlainRead(compiled(builder.updateTable('systems').set({ hostname: 'x' })))).toBe(false);
    expect(
      isPlainRead(
        compiled(
          builder
            .with('gone', (db) => db.deleteFrom('systems').returning('id'))
            .selectFrom('gone')
            .select('id'),
        ),
      ),
    ).toBe(false);
    expect(isPlainRead(sql`select pg_advisory_lock(1)`.compile(builder))).toBe(false);
    expect(isPlainRead(sql`select id from ingest_commands for update skip locked`.compile(builder))).toBe(false);
    expect(isPlainRead(sql`set statement_timeout = 0`.compile(builder))).toBe(false);
  });
});

describe.skipIf(!PG_URL)('PostgreSQL statement timeout for reads', () => {
  let test: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    test = await createTestDatabase('postgres');
    database = openPostgres(test.url!, { poolSize: 2, statementTimeoutMs: 200 });
    await migrate(database.db);
  });
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  it('stops a read outside a transaction after the timeout, as UNAVAILABLE naming the setting', async () => {
    await expect(sql`select pg_sleep(5)`.execute(database.db)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('200 ms (pg_statement_timeout_ms)'),
    });
    await expect(database.db.selectNoFrom(sql<number>`pg_sleep(5)`.as('s')).execute()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // The pool is usable afterwards.
    expect((await sql<{ one: number }>`select 1 as one`.execute(database.db)).rows).toEqual([{ one: 1 }]);
  });

  it('leaves transactions (ingest batches, migrations) and writes unbounded', async () => {
    const slept = await database.db.transaction().execute(async (tx) => (await sql<{ s: string }>`select pg_sleep(0.4)::text as s`.execute(tx)).rows);
    expect(slept).toEqual([{ s: '' }]);
    await sql`do $$ begin perform pg_sleep(0.4); end $$`.execute(database.db);
  });

  it('makes a regular expression that PostgreSQL refuses INVALID_ARGUMENT, on either pool', async () => {
    // RE2 (the SQLite engine, and the selector check) accepts `\z`; PostgreSQL's engine does not.
    const read = database.db.selectNoFrom(sql<boolean>`${'abc'} ~ ${'c\\z'}`.as('m')).execute();
    await expect(read).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('PostgreSQL cannot use this regular expression') });
    const inTransaction = database.db.transaction().execute((tx) => sql`select ${'abc'} ~ ${'a(?i)b'}`.execute(tx));
    await expect(inTransaction).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('reads what a transaction just committed', async () => {
    await database.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('organizations')
        .values({ id: 'o-timeout', name: 'T', slug: 'timeout-test', created_at: new Date().toISOString() } as never)
        .execute();
    });
    expect(await database.db.selectFrom('organizations').select('slug').where('id', '=', 'o-timeout').executeTakeFirst()).toEqual({ slug: 'timeout-test' });
  });
});
