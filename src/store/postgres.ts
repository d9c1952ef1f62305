import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { POSTGRES_CAPABILITIES, type Database, type WakeChannel } from './dialect.js';
import type { Schema } from './schema.js';

const CHANNEL = 'muster_wake';

/**
 * LISTEN/NOTIFY on one dedicated connection. A dropped listener reconnects on the
 * next publish or after a delay; missed wake-ups only cost latency, because
 * every receiver also polls.
 */
class PgWakeChannel implements WakeChannel {
  private listener: pg.Client | undefined;
  private handlers: Array<(topic: string, payload: string) => void> = [];
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
  ) {}

  async publish(topic: string, payload: string): Promise<void> {
    await this.pool.query('select pg_notify($1, $2)', [CHANNEL, JSON.stringify([topic, payload])]);
  }

  subscribe(handler: (topic: string, payload: string) => void): void {
    this.handlers.push(handler);
    if (!this.listener) void this.connect();
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
    client.on('error', () => this.reconnectSoon(client));
    client.on('end', () => this.reconnectSoon(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch {
      this.reconnectSoon(client);
    }
  }

  private reconnectSoon(client: pg.Client): void {
    if (this.listener !== client || this.closed) return;
    this.listener = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    setTimeout(() => void this.connect(), 1000).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.listener;
    this.listener = undefined;
    if (client) await client.end().catch(() => undefined);
  }
}

/** Opens a PostgreSQL pool (and a LISTEN connection for wake-ups). */
export function openPostgres(url: string, options: { poolSize?: number } = {}): Database {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
  // An idle client's error (server restart) must not crash the process.
  pool.on('error', () => undefined);
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
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
