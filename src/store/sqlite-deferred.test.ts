import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './dialect.js';
import { openSqlite } from './sqlite.js';
import { migrate } from './dialect.js';

describe('SQLite deferred sync', () => {
  let dir: string;
  let database: Database;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'muster-deferred-'));
    database = openSqlite(join(dir, 'muster.db'));
    await migrate(database.db);
  });
  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const synchronous = async () => Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(database.db)).rows[0]!.synchronous);

  it('commits, returns the result, and leaves every other statement under synchronous=FULL', async () => {
    expect(await synchronous()).toBe(2);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const deferred = database.deferredSync!.transaction(async (tx) => {
      await tx.insertInto('organizations').values({ id: 'o1', slug: 'one', name: 'One', created_at: '2026-01-01T00:00:00Z' }).execute();
      expect(Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(tx)).rows[0]!.synchronous)).toBe(1);
      await gate;
      return 'done';
    });
    // A statement issued while the deferred transaction holds the connection waits for it, then runs under FULL.
    const other = synchronous();
    release();
    expect(await deferred).toBe('done');
    expect(await other).toBe(2);
    expect(await database.db.selectFrom('organizations').select('slug').where('id', '=', 'o1').executeTakeFirst()).toEqual({ slug: 'one' });
  });

  it('shares syncs among concurrent commits and loses none', async () => {
    const n = 50;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        database.deferredSync!.transaction((tx) =>
          tx
            .insertInto('organizations')
            .values({ id: `o${i}`, slug: `s${i}`, name: `N${i}`, created_at: '2026-01-01T00:00:00Z' })
            .execute(),
        ),
      ),
    );
    const count = await database.db
      .selectFrom('organizations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('id', 'like', 'o%')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(n);
    expect(await synchronous()).toBe(2);
  });

  it('rolls back a failed transaction and restores synchronous=FULL', async () => {
    await expect(
      database.deferredSync!.transaction(async (tx) => {
        await tx.insertInto('organizations').values({ id: 'x', slug: 'x', name: 'X', created_at: '2026-01-01T00:00:00Z' }).execute();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await database.db.selectFrom('organizations').select('id').where('id', '=', 'x').executeTakeFirst()).toBeUndefined();
    expect(await synchronous()).toBe(2);
  });
});
