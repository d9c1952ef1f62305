import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { SQLITE_CAPABILITIES, type Database } from './dialect.js';
import { registerIngestFunctions } from './queue/sqlite-functions.js';
import type { Schema } from './schema.js';

/**
 * Opens the embedded database. WAL lets readers run beside the one writer;
 * synchronous=FULL because an "accepted" response promises the data survives
 * a power cut, not only a process crash.
 */
export function openSqlite(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  registerIngestFunctions(sqlite);
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    capabilities: SQLITE_CAPABILITIES,
    wake: undefined,
    close: () => db.destroy(),
  };
}
