import { type FileHandle, open } from 'node:fs/promises';
import BetterSqlite3 from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { Schema } from './schema.js';

/**
 * Runs `work` on the one connection under another `synchronous` level, and
 * restores FULL after it: no other statement can run in between, since the
 * connection is held.
 */
export function underSynchronous<T>(db: Kysely<Schema>, level: 'NORMAL' | 'OFF', work: (conn: Kysely<Schema>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`pragma synchronous = ${sql.raw(level)}`.execute(conn);
    try {
      return await work(conn);
    } finally {
      await sql`pragma synchronous = FULL`.execute(conn);
    }
  });
}

/** A file opened on first use and fdatasync'd on libuv's thread pool (on Linux an fsync applies to the file, whichever descriptor names it). */
export function syncedFile(path: string): { datasync(): Promise<void>; close(): Promise<void> } {
  let handle: Promise<FileHandle> | undefined;
  return {
    async datasync() {
      handle ??= open(path, 'r');
      await (await handle).datasync();
    },
    async close() {
      if (handle) await (await handle.catch(() => undefined))?.close();
    },
  };
}

export interface CheckpointOptions {
  /** After a deferred commit, checkpoint when the last one ended at least this long ago. */
  afterCommitMs: number;
  /** Checkpoint at least this often while the log holds frames not yet copied (writes that bypass deferred sync). */
  everyMs: number;
  /** A checkpoint failed; the next one retries, and meanwhile the log grows. */
  onError: (err: unknown) => void;
}

export const DEFAULT_CHECKPOINT_OPTIONS: CheckpointOptions = { afterCommitMs: 100, everyMs: 1000, onError: () => {} };

interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * Checkpoints off the commit path. SQLite's automatic checkpoint runs inside
 * whichever commit crosses 1,000 log pages and there waits for two fsyncs,
 * the log's and then the database file's: 8 % of the commits of the report
 * benchmark took 2–30 ms, 430 ms of event-loop time for 5,000 reports
 * (measured; docs/benchmarks.md). Here automatic checkpoints are off and this
 * runs them, with both waits on libuv's thread pool:
 *
 * 1. a read transaction on a second connection pins the log's current end,
 *    frame F;
 * 2. the log is fdatasync'd (a sync started after the pin, so frames ≤ F are
 *    on disk);
 * 3. the checkpoint copies frames into the database file without syncing
 *    (synchronous=OFF for that one statement); the pinned reader stops it at
 *    F, so it never copies a frame that might not be on disk in the log;
 * 4. the database file is fdatasync'd;
 * 5. the reader ends. Until then SQLite cannot restart the log over frames
 *    whose pages may not yet be on disk in the database file.
 *
 * A crash at any step leaves frames ≤ F in the log for recovery to replay,
 * which is what synchronous=NORMAL's checkpoint guarantees too.
 */
export class Checkpointer {
  private readonly pin: BetterSqlite3.Database;
  private readonly pinRead: BetterSqlite3.Statement;
  private readonly file: ReturnType<typeof syncedFile>;
  private running: Promise<void> | undefined;
  private lastEnd = 0;
  private last: CheckpointResult | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly db: Kysely<Schema>,
    path: string,
    private readonly syncLog: () => Promise<void>,
    private readonly options: CheckpointOptions = DEFAULT_CHECKPOINT_OPTIONS,
  ) {
    this.file = syncedFile(path);
    this.pin = new BetterSqlite3(path);
    this.pin.pragma('cache_size = -64');
    this.pinRead = this.pin.prepare('select count(*) from sqlite_schema');
    this.timer = setInterval(() => this.start(), options.everyMs);
    this.timer.unref();
  }

  /** A deferred commit was made: checkpoint if none ran in the last `afterCommitMs`. */
  committed(): void {
    if (performance.now() - this.lastEnd >= this.options.afterCommitMs) this.start();
  }

  /** Runs a checkpoint now, or waits for the running one. */
  checkpoint(): Promise<void> {
    this.start();
    return this.idle();
  }

  /** Resolves once no checkpoint is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private start(): void {
    if (this.running || this.closed) return;
    this.running = this.run()
      .catch((err: unknown) => this.options.onError(err))
      .finally(() => {
        this.running = undefined;
        this.lastEnd = performance.now();
      });
  }

  private async run(): Promise<void> {
    this.pin.exec('begin');
    try {
      this.pinRead.get();
      await this.syncLog();
      const result = await underSynchronous(
        this.db,
        'OFF',
        async (conn) => (await sql<CheckpointResult>`pragma wal_checkpoint(PASSIVE)`.execute(conn)).rows[0]!,
      );
      const copied = result.checkpointed > 0 && (result.log !== this.last?.log || result.checkpointed !== this.last.checkpointed);
      this.last = result;
      if (copied) await this.file.datasync();
    } finally {
      this.pin.exec('commit');
    }
  }

  /** Waits for a running checkpoint and lets go of the second connection; the main connection's close checkpoints the rest. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
    this.pin.close();
    await this.file.close();
  }
}
