import { setImmediate as nextTurn } from 'node:timers/promises';
import { CompiledQuery, RawNode, SelectQueryNode, type DatabaseConnection, type Driver, type QueryResult, type TransactionSettings } from 'kysely';

/** How a write is made durable without blocking the event loop (see DeferredSync). */
export interface WriteDurability {
  /** Resolves once every commit made before the call is on disk (an fdatasync of the log, off the event loop). */
  flush(): Promise<void>;
}

/**
 * SQLite's writer and reader behind one Kysely driver, so that reads never
 * wait behind a burst of writes. Measured with `npm run bench -- burst` (a
 * viewer's `GET /v1/whoami` during 1,000 parallel trigger calls: p95 up to
 * 2.2 s before, 4-5 ms with this driver), three things held a read back, and
 * each is handled here:
 *
 * 1. Kysely queues every query for SQLite's one connection: a read waited for
 *    every write queued before it. SELECTs outside a transaction go to a
 *    second, read-only connection, which in WAL mode reads the last committed
 *    state without waiting for the writer. A transaction keeps all its
 *    statements on the writer, so it reads its own writes.
 * 2. Each commit under synchronous=FULL waits for an fsync on the event loop's
 *    own thread (better-sqlite3 is synchronous): 2-4 ms each, up to 1 s under
 *    disk contention, during which no request is even parsed. A session that
 *    writes with Kysely's statements commits under synchronous=NORMAL instead
 *    and its caller's promise resolves only after `durability.flush()`, an
 *    fdatasync of the log on libuv's thread pool that concurrent commits
 *    share: what the ingest queue's DeferredSync does, for every write. A
 *    session that starts with raw SQL (a pragma, DeferredSync's own
 *    transactions, the checkpointer) manages the connection itself and is
 *    left as it is.
 * 3. better-sqlite3 answers at once, so when one holder releases the writer
 *    the next waiting one runs in the same microtask chain, and so on through
 *    the whole queue. A holder that had to wait lets one turn of the event
 *    loop pass first; an uncontended write pays nothing.
 */
export class ReadRoutingDriver implements Driver {
  /** Holders of the writer and those waiting for it. */
  private writers = 0;

  constructor(
    private readonly writer: Driver,
    private readonly reader: Driver,
    private readonly durability?: WriteDurability,
  ) {}

  async init(): Promise<void> {
    await this.writer.init();
    await this.reader.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new RoutingConnection(this, this.reader);
  }

  /** The writer, for one session; see point 3 above. */
  async acquireWriter(): Promise<DatabaseConnection> {
    const contended = this.writers > 0;
    this.writers += 1;
    try {
      const connection = await this.writer.acquireConnection();
      if (contended) await nextTurn();
      return connection;
    } catch (err) {
      this.writers -= 1;
      throw err;
    }
  }

  /** Lets the writer go; a deferred session then waits for its commits to reach the disk, beside the next holder's work. */
  async releaseWriter(connection: DatabaseConnection, deferred: boolean): Promise<void> {
    try {
      if (deferred) await connection.executeQuery(CompiledQuery.raw('pragma synchronous = FULL'));
    } finally {
      this.writers -= 1;
      await this.writer.releaseConnection(connection);
    }
    // The checkpointer's timer copies these commits into the database file, as it does every write outside the ingest queue.
    if (deferred && this.durability) await this.durability.flush();
  }

  /** Whether a session's writes may commit under synchronous=NORMAL (they are flushed at release). */
  get defers(): boolean {
    return this.durability !== undefined;
  }

  /**
   * `begin immediate`: the write lock is taken at the start. With several
   * processes on one file (`muster server --workers N`), a deferred
   * transaction that read first and then writes fails at once with
   * SQLITE_BUSY when a sibling committed in between — the busy timeout
   * cannot help it — while an immediate one waits its turn for the lock.
   * SQLite has no isolation levels to set, so `settings` has nothing to say.
   */
  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    const routed = connection as RoutingConnection;
    await (await routed.writerFor('write')).executeQuery(CompiledQuery.raw('begin immediate'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.writer.commitTransaction(await writerOf(connection));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.writer.rollbackTransaction(await writerOf(connection));
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    await this.writer.savepoint!(await writerOf(connection), name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['rollbackToSavepoint']>>[2]): Promise<void> {
    await this.writer.rollbackToSavepoint!(await writerOf(connection), name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['releaseSavepoint']>>[2]): Promise<void> {
    await this.writer.releaseSavepoint!(await writerOf(connection), name, compile);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await (connection as RoutingConnection).release();
  }

  async destroy(): Promise<void> {
    // The reader closes first, so that the writer's close can checkpoint the whole log.
    await this.reader.destroy();
    await this.writer.destroy();
  }
}

function writerOf(connection: DatabaseConnection): Promise<DatabaseConnection> {
  return (connection as RoutingConnection).writerFor('write');
}

/**
 * What Kysely holds between acquire and release. The writer is taken on the
 * first statement that needs it and kept until release, so a transaction, or
 * a `db.connection()` scope that set a pragma, stays on one connection. The
 * first statement also decides whether the session's commits are deferred:
 * a write does, raw SQL does not.
 */
class RoutingConnection implements DatabaseConnection {
  private writer: Promise<DatabaseConnection> | undefined;
  private deferred = false;

  constructor(
    private readonly driver: ReadRoutingDriver,
    private readonly readerDriver: Driver,
  ) {}

  writerFor(first: 'write' | 'raw'): Promise<DatabaseConnection> {
    this.writer ??= this.takeWriter(first);
    return this.writer;
  }

  private async takeWriter(first: 'write' | 'raw'): Promise<DatabaseConnection> {
    const connection = await this.driver.acquireWriter();
    if (first === 'write' && this.driver.defers) {
      try {
        await connection.executeQuery(CompiledQuery.raw('pragma synchronous = NORMAL'));
      } catch (err) {
        await this.driver.releaseWriter(connection, false);
        throw err;
      }
      this.deferred = true;
    }
    return connection;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (!this.writer && SelectQueryNode.is(query.query)) {
      const reader = await this.readerDriver.acquireConnection();
      try {
        return await reader.executeQuery<R>(query);
      } finally {
        await this.readerDriver.releaseConnection(reader);
      }
    }
    const writer = await this.writerFor(RawNode.is(query.query) ? 'raw' : 'write');
    return writer.executeQuery<R>(query);
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    yield* (await this.writerFor('raw')).streamQuery<R>(query, chunkSize);
  }

  async release(): Promise<void> {
    const writer = this.writer;
    const deferred = this.deferred;
    this.writer = undefined;
    this.deferred = false;
    // A writer that could not be taken was never held.
    const connection = await writer?.catch(() => undefined);
    if (connection) await this.driver.releaseWriter(connection, deferred);
  }
}
