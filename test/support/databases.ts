import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate, type Database } from '../../src/store/index.js';
import { openPostgres } from '../../src/store/postgres.js';
import { openSqlite } from '../../src/store/sqlite.js';

/** The PostgreSQL server for tests; unset means the PostgreSQL suites are skipped. */
export const PG_URL = process.env.MUSTER_TEST_PG_URL;

export interface TestDatabase {
  name: 'sqlite' | 'postgres';
  /** Where a server process can find it: a data dir (SQLite) or a URL (PostgreSQL). */
  url: string | undefined;
  dataDir: string;
  open(): Database;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh, empty database of the given kind (a temp file, or a new PostgreSQL database). */
export async function createTestDatabase(name: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'muster-test-'));
  if (name === 'sqlite') {
    return {
      name,
      url: undefined,
      dataDir,
      open: () => openSqlite(join(dataDir, 'muster.db')),
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  if (!PG_URL) throw new Error('MUSTER_TEST_PG_URL is not set');
  const database = `muster_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = withDatabase(PG_URL, database);
  return {
    name,
    url,
    dataDir,
    open: () => openPostgres(url, { poolSize: 4 }),
    drop: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The databases every storage and end-to-end suite runs on: SQLite always, PostgreSQL when configured. */
export const DATABASES = [
  { name: 'sqlite' as const, skip: false },
  { name: 'postgres' as const, skip: !PG_URL },
];

/** Opens a fresh migrated database for a suite. */
export async function openMigrated(name: 'sqlite' | 'postgres'): Promise<{ database: Database; test: TestDatabase }> {
  const test = await createTestDatabase(name);
  const database = test.open();
  await migrate(database.db);
  return { database, test };
}
