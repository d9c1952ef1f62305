import {
  Kysely,
  PostgresDialect,
  PostgresDriver,
  RawNode,
  SelectQueryNode,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';
import { MusterError } from '../core/errors.js';
import { Backoff } from '../lib/backoff.js';
import { POSTGRES_CAPABILITIES, type Database, type WakeChannel } from './dialect.js';
import type { Schema } from './schema.js';

const CHANNEL = 'muster_wake';

/**
 * LISTEN/NOTIFY on one dedicated connection. A lost listener (the server
 * restarted, a failover, the backend was terminated) reconnects with the
 * shared backoff and LISTENs again; wake-ups sent meanwhile are missed, which
 * only costs latency, because every receiver also polls.
 */
class PgWakeChannel implements WakeChannel {
  private listener: pg.Client | undefined;
  private handlers: Array<(topic: string, payload: string) => void> = [];
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  // From 100 ms, doubling to 10 s: a restarting database is back within seconds, and replicas spread their retries.
  private readonly backoff = new Backoff({ baseMs: 100, maxMs: 10_000 });

  constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
  ) {}

  async publish(topic: string, payload: string): Promise<void> {
    await this.pool.query('select pg_notify($1, $2)', [CHANNEL, JSON.stringify([topic, payload])]);
  }

  subscribe(handler: (topic: string, payload: string) => void): void {
    this.handlers.push(handler);
    if (!this.listener && !this.retry) void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url });
    this.listener = client;
    client.on('notification', (msg) => {
      try {
        const [topic, payload] = JSON.parse(msg.payload ?? '[]') as [string, string];
        for (const h of this.handlers) h(topic, payload);
      } catch {
        // A malformed notification is ignored: polling covers it.
      }
    });
    // Stays attached after a loss: an error the ending client still emits must not crash the process.
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.listener === client) this.backoff.reset();
    } catch {
      this.lost(client);
    }
  }

  private lost(client: pg.Client): void {
    if (this.listener !== client || this.closed) return;
    this.listener = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, this.backoff.next());
    this.retry.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    const client = this.listener;
    this.listener = undefined;
    if (client) await client.end().catch(() => undefined);
  }
}

/**
 * Opens PostgreSQL: a pool (and a LISTEN connection for wake-ups), and, when
 * `statementTimeoutMs` is set, a second pool whose sessions stop any
 * statement after that long, for reads outside a transaction (see
 * QueryRoutingDriver). Each pool holds up to `poolSize` connections.
 */
export function openPostgres(url: string, options: { poolSize?: number; statementTimeoutMs?: number } = {}): Database {
  const max = options.poolSize ?? 10;
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client's error (server restart) must not crash the process.
  pool.on('error', () => undefined);
  const timeoutMs = options.statementTimeoutMs ?? 0;
  const queries = timeoutMs > 0 ? new pg.Pool({ connectionString: url, max, statement_timeout: timeoutMs }) : undefined;
  queries?.on('error', () => undefined);
  const dialect = new (class extends PostgresDialect {
    override createDriver(): Driver {
      const main = new PostgresDriver({ pool });
      return new QueryRoutingDriver(main, queries ? new PostgresDriver({ pool: queries }) : main, timeoutMs);
    }
  })({ pool });
  const db = new Kysely<Schema>({ dialect });
  const wake = new PgWakeChannel(url, pool);
  return {
    db,
    capabilities: POSTGRES_CAPABILITIES,
    wake,
    close: async () => {
      await wake.close();
      await db.destroy();
    },
  };
}

/**
 * Whether a statement only reads and may run on a session of its own: a
 * SELECT without row locks or data-modifying CTEs, or raw SQL that is a
 * plain `select`/`with` (the PuppetDB query path builds raw SQL). Anything
 * else, and anything unsure, goes to the main pool, as it always did.
 */
export function isPlainRead(query: CompiledQuery): boolean {
  const node = query.query;
  if (SelectQueryNode.is(node)) {
    if (node.endModifiers?.length) return false;
    return (node.with?.expressions ?? []).every((cte) => SelectQueryNode.is(cte.expression));
  }
  if (!RawNode.is(node)) return false;
  return (
    /^\s*\(?\s*(select|with)\b/i.test(query.sql) &&
    !/\b(insert|update|delete|for\s+(update|share|no\s+key|key)|pg_advisory\w*|pg_notify|set_config|nextval|setval|lock)\b/i.test(query.sql)
  );
}

/**
 * The main pool for writes, transactions, migrations and ingest batches, which
 * may rightly run long; a second pool, whose sessions carry PostgreSQL's
 * `statement_timeout`, for reads outside a transaction, which is what a
 * request's selector, PuppetDB query or listing is. Caller-supplied regular
 * expressions run in PostgreSQL's own engine there, so one that takes
 * PostgreSQL long is stopped instead of holding connections, and the two
 * pools keep such reads from starving writes. A session keeps to the main
 * pool once it used it, so a transaction reads its own writes.
 */
class QueryRoutingDriver implements Driver {
  constructor(
    readonly main: Driver,
    readonly queries: Driver,
    readonly timeoutMs: number,
  ) {}

  async init(): Promise<void> {
    await this.main.init();
    await this.queries.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new RoutedConnection(this);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.main.beginTransaction(await (connection as RoutedConnection).onMain(), settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.main.commitTransaction(await (connection as RoutedConnection).onMain());
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.main.rollbackTransaction(await (connection as RoutedConnection).onMain());
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    await this.main.savepoint!(await (connection as RoutedConnection).onMain(), name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['rollbackToSavepoint']>>[2]): Promise<void> {
    await this.main.rollbackToSavepoint!(await (connection as RoutedConnection).onMain(), name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['releaseSavepoint']>>[2]): Promise<void> {
    await this.main.releaseSavepoint!(await (connection as RoutedConnection).onMain(), name, compile);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await (connection as RoutedConnection).release();
  }

  async destroy(): Promise<void> {
    if (this.queries !== this.main) await this.queries.destroy();
    await this.main.destroy();
  }
}

/**
 * PostgreSQL's answers to a caller's input, as the errors a face can show:
 * a regular expression its engine refuses (2201B: RE2 accepts a few forms it
 * does not, such as `\z` or a flag group mid-pattern) is INVALID_ARGUMENT,
 * and a read stopped by statement_timeout (57014) is UNAVAILABLE naming the
 * setting. Anything else passes through unchanged.
 */
async function translated<R>(running: Promise<QueryResult<R>>, timeoutMs: number): Promise<QueryResult<R>> {
  try {
    return await running;
  } catch (err) {
    const { code, message } = err as { code?: string; message?: string };
    if (code === '2201B')
      throw new MusterError('INVALID_ARGUMENT', `PostgreSQL cannot use this regular expression: ${message ?? 'invalid'}`, { field: 'regex', cause: err });
    if (code === '57014' && timeoutMs > 0 && /statement timeout/.test(message ?? '')) {
      throw new MusterError(
        'UNAVAILABLE',
        `the database stopped this query after ${timeoutMs} ms (pg_statement_timeout_ms): narrow it, or simplify its regular expression`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** What Kysely holds between acquire and release: a main-pool connection, taken on the first statement that needs one. */
class RoutedConnection implements DatabaseConnection {
  private main: Promise<DatabaseConnection> | undefined;

  constructor(private readonly driver: QueryRoutingDriver) {}

  onMain(): Promise<DatabaseConnection> {
    this.main ??= this.driver.main.acquireConnection();
    return this.main;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.main || !isPlainRead(query)) return translated((await this.onMain()).executeQuery<R>(query), this.driver.timeoutMs);
    const connection = await this.driver.queries.acquireConnection();
    try {
      return await translated(connection.executeQuery<R>(query), this.driver.timeoutMs);
    } finally {
      await this.driver.queries.releaseConnection(connection);
    }
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    yield* (await this.onMain()).streamQuery<R>(query, chunkSize);
  }

  async release(): Promise<void> {
    const main = this.main;
    this.main = undefined;
    const connection = await main?.catch(() => undefined);
    if (connection) await this.driver.main.releaseConnection(connection);
  }
}
