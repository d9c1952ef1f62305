import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { migrate, type Database } from './dialect.js';
import { insertMany } from './insert-many.js';

describe.each(DATABASES)('insertMany on $name', ({ name, skip }) => {
  let test: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    if (skip) return;
    test = await createTestDatabase(name);
    database = test.open();
    await migrate(database.db);
  });
  afterAll(async () => {
    if (skip) return;
    await database.close();
    await test.drop();
  });

  const org = (id: string, slug: string) => ({ id, slug, name: `Org ${slug}`, created_at: '2026-01-01T00:00:00Z' });
  // A module-level modifier with a parameter of its own: kept from the first compilation.
  const renameOnConflict = (qb: Parameters<NonNullable<Parameters<typeof insertMany<'organizations'>>[3]>>[0]) =>
    qb.onConflict((oc) => oc.column('id').doUpdateSet({ name: sql<string>`${'renamed'}` }));

  it.skipIf(skip)('binds each call’s rows to the statement compiled for that row count, with the modifier’s own parameters', async () => {
    await insertMany(database.db, 'organizations', [org('a1', 'a1'), org('a2', 'a2')]);
    await insertMany(database.db, 'organizations', [org('b1', 'b1'), org('b2', 'b2')]);
    await insertMany(database.db, 'organizations', [org('c1', 'c1')]);
    await insertMany(database.db, 'organizations', [org('a1', 'x1'), org('d1', 'd1')], renameOnConflict);
    await insertMany(database.db, 'organizations', [org('b2', 'x2'), org('e1', 'e1')], renameOnConflict);
    const rows = await database.db
      .selectFrom('organizations')
      .select(['id', 'slug', 'name'])
      .where('id', 'in', ['a1', 'a2', 'b1', 'b2', 'c1', 'd1', 'e1'])
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { id: 'a1', slug: 'a1', name: 'renamed' },
      { id: 'a2', slug: 'a2', name: 'Org a2' },
      { id: 'b1', slug: 'b1', name: 'Org b1' },
      { id: 'b2', slug: 'b2', name: 'renamed' },
      { id: 'c1', slug: 'c1', name: 'Org c1' },
      { id: 'd1', slug: 'd1', name: 'Org d1' },
      { id: 'e1', slug: 'e1', name: 'Org e1' },
    ]);
  });

  it.skipIf(skip)('takes columns by name whatever their order in each row, and refuses rows with other columns', async () => {
    const { id, slug, name: n, created_at } = org('f1', 'f1');
    await insertMany(database.db, 'organizations', [
      { id, slug, name: n, created_at },
      { slug: 'f2', created_at, id: 'f2', name: 'Org f2' },
    ]);
    expect(await database.db.selectFrom('organizations').select(['id', 'slug', 'name']).where('id', 'in', ['f1', 'f2']).orderBy('id').execute()).toEqual([
      { id: 'f1', slug: 'f1', name: 'Org f1' },
      { id: 'f2', slug: 'f2', name: 'Org f2' },
    ]);
    await expect(insertMany(database.db, 'organizations', [org('g1', 'g1'), { id: 'g2', slug: 'g2', name: 'G' } as never])).rejects.toThrow(
      /every row must have the columns/,
    );
    await expect(insertMany(database.db, 'organizations', [org('g1', 'g1'), { ...org('g2', 'g2'), name: undefined } as never])).rejects.toThrow(
      /every row must have the columns/,
    );
  });
});
