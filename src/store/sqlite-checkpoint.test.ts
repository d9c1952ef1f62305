import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, type Database } from './dialect.js';
import { Checkpointer, DEFAULT_CHECKPOINT_OPTIONS } from './sqlite-checkpoint.js';
import { openSqlite } from './sqlite.js';

const org = (name: string) => ({ id: name, slug: name, name, created_at: '2026-01-01T00:00:00Z' });

describe('SQLite checkpoints off the commit path', () => {
  let dir: string;
  let path: string;
  let database: Database & { checkpointer?: Checkpointer };
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'muster-checkpoint-'));
    path = join(dir, 'muster.db');
    database = openSqlite(path);
    await migrate(database.db);
  });
  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Whether a text has been copied into the database file itself (not only written to its log). */
  const inFile = (text: string) => readFileSync(path).includes(text);
  const checkpointer = () => database.checkpointer!;

  it("turns SQLite's automatic checkpoint off and copies a deferred commit into the database file", async () => {
    expect((await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(database.db)).rows[0]!.wal_autocheckpoint).toBe(0);
    await database.deferredSync!.transaction((tx) => tx.insertInto('organizations').values(org('deferred-marker-1')).execute());
    // The commit started a checkpoint (none had run); the row is in the file once it ends.
    await checkpointer().idle();
    expect(inFile('deferred-marker-1')).toBe(true);
  });

  it('copies no frame committed after it pinned the end of the log, and takes it the next time', async () => {
    await database.db.insertInto('organizations').values(org('before-marker')).execute();
    let during = false;
    // The log's sync is where another commit can land between the pin and the copy.
    const c = new Checkpointer(
      database.db,
      path,
      async () => {
        if (during) return;
        during = true;
        await database.db.insertInto('organizations').values(org('during-marker')).execute();
      },
      { ...DEFAULT_CHECKPOINT_OPTIONS, everyMs: 3_600_000 },
    );
    try {
      await c.checkpoint();
      expect(inFile('during-marker')).toBe(false);
      await c.checkpoint();
      expect(inFile('during-marker')).toBe(true);
      expect(inFile('before-marker')).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('checkpoints writes that bypass deferred sync on its timer', async () => {
    await database.close();
    database = openSqlite(path);
    const c = new Checkpointer(database.db, path, async () => {}, { ...DEFAULT_CHECKPOINT_OPTIONS, everyMs: 20 });
    try {
      await database.db.insertInto('organizations').values(org('timer-marker')).execute();
      await expect.poll(() => inFile('timer-marker'), { timeout: 5000, interval: 20 }).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('keeps every commit across close and reopen', async () => {
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        database.deferredSync!.transaction((tx) =>
          tx
            .insertInto('organizations')
            .values(org(`o${i}`))
            .execute(),
        ),
      ),
    );
    await database.close();
    database = openSqlite(path);
    const n = await database.db
      .selectFrom('organizations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('id', 'like', 'o%')
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(30);
  });

  it('reports a failed checkpoint and runs again', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const c = new Checkpointer(
      database.db,
      path,
      async () => {
        if (fail) throw new Error('disk gone');
      },
      { ...DEFAULT_CHECKPOINT_OPTIONS, everyMs: 3_600_000, onError: (err) => errors.push(err) },
    );
    try {
      await database.db.insertInto('organizations').values(org('retry-marker')).execute();
      await c.checkpoint();
      expect(errors).toEqual([new Error('disk gone')]);
      expect(inFile('retry-marker')).toBe(false);
      fail = false;
      await c.checkpoint();
      expect(inFile('retry-marker')).toBe(true);
    } finally {
      await c.close();
    }
  });
});
