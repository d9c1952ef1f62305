import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql, SqliteDialect, SqliteDriver, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, openMigrated, type TestDatabase } from '../../test/support/databases.js';
import { migrate, type Database } from './dialect.js';
import { ReadRoutingDriver } from './read-routing.js';
import type { Schema } from './schema.js';

/**
 * Reads that do not need the writer do not wait for it. On SQLite that is the
 * read-only second connection (read-routing.ts); PostgreSQL's pool has several
 * connections. If a read queued behind the open transaction below, the
 * transaction, which waits for the read, would never end.
 */
describe.each(DATABASES)('reads beside an open write transaction on $name', ({ name, skip }) => {
  let database: Database;
  let test: TestDatabase;
  beforeAll(async () => {
    if (skip) return;
    ({ database, test } = await openMigrated(name));
  });
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  const org = (id: string) => ({ id, slug: id, name: id, created_at: new Date().toISOString() });
  const slugs = async () => (await database.db.selectFrom('organizations').select('slug').orderBy('slug').execute()).map((r) => r.slug);

  it.skipIf(skip)('a read outside the transaction answers while it is open, with the committed state only', async () => {
    await database.db.insertInto('organizations').values(org('committed')).execute();
    const seen = await database.db.transaction().execute(async (tx) => {
      await tx.insertInto('organizations').values(org('pending')).execute();
      const outside = await slugs();
      const inside = (await tx.selectFrom('organizations').select('slug').orderBy('slug').execute()).map((r) => r.slug);
      return { outside, inside };
    });
    expect(seen.outside).toEqual(['committed']);
    expect(seen.inside).toEqual(['committed', 'pending']);
    expect(await slugs()).toEqual(['committed', 'pending']);
  });

  it.skipIf(skip)('a rolled-back transaction leaves nothing for readers', async () => {
    await expect(
      database.db.transaction().execute(async (tx) => {
        await tx.insertInto('organizations').values(org('rolled-back')).execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await slugs()).not.toContain('rolled-back');
  });

  it.skipIf(skip)('writes outside a transaction are read back at once', async () => {
    await database.db.updateTable('organizations').set({ name: 'renamed' }).where('slug', '=', 'committed').execute();
    const row = await database.db.selectFrom('organizations').select('name').where('slug', '=', 'committed').executeTakeFirstOrThrow();
    expect(row.name).toBe('renamed');
  });
});

describe('SQLite writes under the read-routing driver', () => {
  let dir: string;
  let db: Kysely<Schema>;
  let syncs: number;
  let gate: { open: () => void; opened: Promise<void> } | undefined;
  let syncStarted: (() => void) | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'muster-routing-'));
    const path = join(dir, 'muster.db');
    const writer = new BetterSqlite3(path);
    writer.pragma('journal_mode = WAL');
    writer.pragma('synchronous = FULL');
    const reader = new BetterSqlite3(path, { readonly: true });
    syncs = 0;
    // The log's sync, at the process boundary: counted, and held shut when a test needs to see a write wait for it.
    const durability = {
      flush: async () => {
        syncs += 1;
        syncStarted?.();
        await gate?.opened;
      },
    };
    db = new Kysely<Schema>({
      dialect: new (class extends SqliteDialect {
        override createDriver() {
          return new ReadRoutingDriver(new SqliteDriver({ database: writer }), new SqliteDriver({ database: reader }), durability);
        }
      })({ database: writer }),
    });
    await migrate(db);
  });
  afterAll(async () => {
    await db?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const org = (id: string) => ({ id, slug: id, name: id, created_at: '2026-01-01T00:00:00Z' });
  const synchronous = async (on: Kysely<Schema> | Transaction<Schema> = db) =>
    Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(on)).rows[0]!.synchronous);
  function shut(): { open: () => void; opened: Promise<void> } {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    return { open, opened };
  }

  it('a write resolves only once the log is synced; it is committed, and visible, before that', async () => {
    gate = shut();
    const started = new Promise<void>((r) => (syncStarted = r));
    let resolved = false;
    const write = db
      .insertInto('organizations')
      .values(org('waits-for-sync'))
      .execute()
      .then(() => (resolved = true));
    try {
      await started;
      const seen = await db.selectFrom('organizations').select('id').where('id', '=', 'waits-for-sync').executeTakeFirst();
      expect(seen).toEqual({ id: 'waits-for-sync' });
      expect(resolved).toBe(false);
    } finally {
      gate.open();
      gate = undefined;
      syncStarted = undefined;
    }
    await write;
    expect(resolved).toBe(true);
  });

  it('a transaction commits under synchronous=NORMAL, and FULL is back for everything else', async () => {
    const before = syncs;
    const inside = await db.transaction().execute(async (tx) => {
      await tx.insertInto('organizations').values(org('normal-commit')).execute();
      return synchronous(tx);
    });
    expect(inside).toBe(1);
    expect(syncs).toBe(before + 1);
    expect(await synchronous()).toBe(2);
  });

  it('a session that starts with raw SQL keeps the connection as it set it, and is not synced for', async () => {
    const before = syncs;
    const level = await db.connection().execute(async (conn) => {
      await sql`pragma synchronous = OFF`.execute(conn);
      await conn.insertInto('organizations').values(org('raw-session')).execute();
      const seen = await synchronous(conn as unknown as Kysely<Schema>);
      await sql`pragma synchronous = FULL`.execute(conn);
      return seen;
    });
    expect(level).toBe(0);
    expect(syncs).toBe(before);
  });
});
