import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, PG_URL, type TestDatabase } from '../../test/support/databases.js';
import type { Database } from './dialect.js';

/** Topics seen by a subscriber, and a wait for the first sighting of one. */
class Seen {
  private readonly topics = new Set<string>();
  private readonly waiters = new Map<string, () => void>();
  add(topic: string): void {
    this.topics.add(topic);
    this.waiters.get(topic)?.();
  }
  when(topic: string): Promise<void> {
    return this.topics.has(topic) ? Promise.resolve() : new Promise((resolve) => this.waiters.set(topic, resolve));
  }
}

/** Publishes `topic` every 50 ms until `database`'s subscriber sees it (a NOTIFY sent while nobody listens is lost, so it is repeated). */
async function roundTrip(database: Database, seen: Seen, topic: string): Promise<void> {
  const probe = setInterval(() => void database.wake!.publish(topic, '').catch(() => undefined), 50);
  try {
    await seen.when(topic);
  } finally {
    clearInterval(probe);
  }
}

describe.skipIf(!PG_URL)('the PostgreSQL wake channel', () => {
  let test: TestDatabase;
  let database: Database;
  const seen = new Seen();

  beforeAll(async () => {
    test = await createTestDatabase('postgres');
    database = test.open();
    database.wake!.subscribe((topic) => seen.add(topic));
    await roundTrip(database, seen, 'first');
  });
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  it('reconnects and LISTENs again after its backend is terminated, and wake-ups arrive again', async () => {
    const admin = new pg.Client({ connectionString: test.url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ pid: number }>("select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %'");
      expect(rows).toHaveLength(1);
      const terminated = await admin.query<{ ok: boolean }>('select pg_terminate_backend($1) as ok', [rows[0]!.pid]);
      expect(terminated.rows[0]!.ok).toBe(true);
      await roundTrip(database, seen, 'after');
      const again = await admin.query<{ pid: number }>("select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %'");
      expect(again.rows.map((r) => r.pid)).not.toContain(rows[0]!.pid);
    } finally {
      await admin.end();
    }
  });
});
