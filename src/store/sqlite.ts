import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, SqliteDriver, type Driver, type SqliteDatabase } from 'kysely';
import { ReadRoutingDriver, type WriteDurability } from './read-routing.js';
import { ensurePrivateDir, ensurePrivateFile } from '../lib/private-files.js';
import { SQLITE_CAPABILITIES, type Database, type DeferredSync } from './dialect.js';
import { registerIngestFunctions } from './ingest/sqlite-functions.js';
import { Checkpointer, DEFAULT_CHECKPOINT_OPTIONS, syncedFile, underSynchronous } from './sqlite-checkpoint.js';
import type { Schema } from './schema.js';

/** Prepared statements kept per connection; the ingest and job paths use a few dozen distinct ones. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * The connection as Kysely sees it, with prepared statements reused: Kysely
 * prepares every query afresh, and preparing cost more than running most of
 * them (measured: 48 µs a prepare against 27 µs for the API-key lookup it
 * served). Safe because the connection is used by one query at a time and
 * Kysely runs statements with all()/run(), never leaving one mid-iteration.
 * Least recently used statements are dropped past the cache size.
 */
export function reusingStatements(sqlite: BetterSqlite3.Database, size = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(query: string) {
      let stmt = cache.get(query);
      if (stmt) cache.delete(query);
      else {
        stmt = sqlite.prepare(query);
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
      }
      cache.set(query, stmt);
      return stmt;
    },
  };
}

/**
 * Deferred durability for SQLite (see DeferredSync): the transaction commits
 * with synchronous=NORMAL — in WAL mode that writes the log without an fsync,
 * and stays consistent after a power cut — while holding the one connection,
 * so no other statement runs under that setting; then the log is fdatasync'd
 * on libuv's thread pool. Syncs are shared: a caller arriving while one runs
 * waits for the next, which starts when it ends and covers all of them.
 */
function deferredSync(
  db: Kysely<Schema>,
  walPath: string,
  committed: () => void = () => {},
): DeferredSync & { flush(): Promise<void>; close(): Promise<void> } {
  const wal = syncedFile(walPath);
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const flush = (): Promise<void> => {
    if (!running) {
      running = wal.datasync().finally(() => (running = undefined));
      return running;
    }
    // The running sync may have started before this commit was written: wait for the next one.
    queued ??= running.then(
      () => ((queued = undefined), flush()),
      () => ((queued = undefined), flush()),
    );
    return queued;
  };
  return {
    flush,
    async transaction(work) {
      const result = await underSynchronous(db, 'NORMAL', (conn) => conn.transaction().execute(work));
      committed();
      await flush();
      return result;
    },
    async close() {
      await running?.catch(() => {});
      await wal.close();
    },
  };
}

/**
 * The read-only second connection (see ReadRoutingDriver), with the same
 * functions and cache size as the writer: queries over every node's facts run
 * here (the PuppetDB `facts` query over 5,000 nodes: 91-100 ms with half the
 * cache, 89 ms with the same, 72-91 ms on the writer alone; `npm run bench -- ingest`).
 */
function openReader(path: string): BetterSqlite3.Database {
  const reader = new BetterSqlite3(path, { readonly: true });
  reader.pragma('busy_timeout = 5000');
  reader.pragma('cache_size = -4000');
  registerIngestFunctions(reader);
  return reader;
}

/** SQLite's dialect with SELECTs outside transactions on `reader`, everything else on `writer` (see ReadRoutingDriver). */
function readRoutingDialect(writer: SqliteDatabase, reader: SqliteDatabase, durability: WriteDurability): SqliteDialect {
  return new (class extends SqliteDialect {
    override createDriver(): Driver {
      return new ReadRoutingDriver(new SqliteDriver({ database: writer }), new SqliteDriver({ database: reader }), durability);
    }
  })({ database: writer });
}

/**
 * Opens the embedded database. WAL lets readers run beside the one writer;
 * synchronous=FULL because an "accepted" response promises the data survives
 * a power cut, not only a process crash. A file database checkpoints through
 * a Checkpointer (store/sqlite-checkpoint.ts) rather than inside commits, and
 * reads on a second, read-only connection while writes commit under NORMAL
 * and resolve after a shared sync of the log (store/read-routing.ts), which
 * keeps the same promise.
 */
export function openSqlite(path: string, options: { onCheckpointError?: (err: unknown) => void } = {}): Database & { checkpointer?: Checkpointer } {
  if (path !== ':memory:') {
    // 0600 before SQLite opens it: SQLite gives the -wal and -shm files the database file's mode.
    ensurePrivateDir(dirname(path));
    ensurePrivateFile(path);
  }
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // 4 MiB of page cache instead of better-sqlite3's 16 MiB: the operating system caches the file as well,
  // and the larger cache raised peak RSS under ingest by ~12 MB without a measurable gain (docs/benchmarks.md).
  sqlite.pragma('cache_size = -4000');
  registerIngestFunctions(sqlite);
  if (path === ':memory:') {
    const memory = new Kysely<Schema>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
    return { db: memory, capabilities: SQLITE_CAPABILITIES, wake: undefined, close: () => memory.destroy() };
  }
  // Bound late: the deferred sync needs the Kysely instance, and nothing writes before it exists.
  const durability: WriteDurability = { flush: () => deferred.flush() };
  const db = new Kysely<Schema>({ dialect: readRoutingDialect(reusingStatements(sqlite), reusingStatements(openReader(path)), durability) });
  sqlite.pragma('wal_autocheckpoint = 0');
  // Each calls the other only later: a commit notifies the checkpointer, a checkpoint syncs the log.
  const checkpointer: Checkpointer = new Checkpointer(db, path, () => deferred.flush(), {
    ...DEFAULT_CHECKPOINT_OPTIONS,
    onError: options.onCheckpointError ?? DEFAULT_CHECKPOINT_OPTIONS.onError,
  });
  const deferred = deferredSync(db, `${path}-wal`, () => checkpointer.committed());
  return {
    db,
    capabilities: SQLITE_CAPABILITIES,
    wake: undefined,
    deferredSync: deferred,
    checkpointer,
    close: async () => {
      // The second connection goes first, so that the main one's close can checkpoint the whole log.
      await checkpointer.close();
      await db.destroy();
      await deferred.close();
    },
  };
}
