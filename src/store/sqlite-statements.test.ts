import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { reusingStatements } from './sqlite.js';

describe('reusingStatements', () => {
  it('prepares a query once, keeps the most recently used, and binds each run afresh', async () => {
    const raw = new BetterSqlite3(':memory:');
    let prepared = 0;
    const counting = Object.create(raw) as BetterSqlite3.Database;
    counting.prepare = ((q: string) => (prepared++, raw.prepare(q))) as BetterSqlite3.Database['prepare'];
    const db = new Kysely<{ t: { id: number; name: string } }>({ dialect: new SqliteDialect({ database: reusingStatements(counting, 2) }) });
    await sql`create table t (id integer primary key, name text)`.execute(db);
    for (let i = 0; i < 5; i++)
      await db
        .insertInto('t')
        .values({ id: i, name: `n${i}` })
        .execute();
    expect(prepared).toBe(2);
    expect((await db.selectFrom('t').select('name').where('id', '=', 3).executeTakeFirst())?.name).toBe('n3');
    expect((await db.selectFrom('t').select('name').where('id', '=', 4).executeTakeFirst())?.name).toBe('n4');
    expect(prepared).toBe(3);
    // Two more distinct queries push the insert out of a cache of two: it is prepared again.
    await db.selectFrom('t').select('id').execute();
    await db.insertInto('t').values({ id: 9, name: 'n9' }).execute();
    expect(prepared).toBe(5);
    expect(
      (
        await db
          .selectFrom('t')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    ).toBe(6);
    await db.destroy();
  });
});
