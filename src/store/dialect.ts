import { Migrator, type Kysely, type Transaction } from 'kysely';
import type { WakeBus } from '../core/wake.js';
import { migrationProvider } from './migrations/index.js';
import type { Schema } from './schema.js';

/**
 * What differs between the databases, as flags. Code that must behave
 * differently asks a flag, or picks from a table with `forDialect`; nothing
 * else checks which database it is.
 */
export type DialectName = 'sqlite' | 'postgres';

export interface DialectCapabilities {
  readonly name: DialectName;
  /** `SELECT … FOR UPDATE SKIP LOCKED` for claiming work across replicas. */
  readonly supportsSkipLocked: boolean;
  /** `LISTEN/NOTIFY` to wake other replicas. */
  readonly supportsListenNotify: boolean;
  /** Several server processes may share this database. */
  readonly supportsReplicas: boolean;
}

export const SQLITE_CAPABILITIES: DialectCapabilities = Object.freeze({
  name: 'sqlite',
  supportsSkipLocked: false,
  supportsListenNotify: false,
  supportsReplicas: false,
});

export const POSTGRES_CAPABILITIES: DialectCapabilities = Object.freeze({
  name: 'postgres',
  supportsSkipLocked: true,
  supportsListenNotify: true,
  supportsReplicas: true,
});

/**
 * The entry of `choices` for this database, for SQL that has no common form
 * in the two (their JSON functions, say). `choices` names every dialect, so
 * a new one fails to compile until each table has its entry; a feature one
 * database lacks is a flag above instead.
 */
export function forDialect<T>(capabilities: DialectCapabilities, choices: Readonly<Record<DialectName, T>>): T {
  return choices[capabilities.name];
}

/** The store's implementation of core's wake-up port, which it closes with the database. */
export interface WakeChannel extends WakeBus {
  close(): Promise<void>;
}

/**
 * Commits that do not block on the disk, made durable together afterwards.
 * SQLite's fsync at every commit blocks the one thread for ~2 ms; here the
 * commit returns at once and one fsync of the write-ahead log, off the event
 * loop, covers every commit made before it started. A caller's promise
 * resolves only once its commit is on disk, so an acknowledgement sent after
 * it promises what a synchronous=FULL commit does.
 */
export interface DeferredSync {
  transaction<T>(work: (tx: Transaction<Schema>) => Promise<T>): Promise<T>;
}

/** An open database: the query builder, its capabilities, and how to close it. */
export interface Database {
  readonly db: Kysely<Schema>;
  readonly capabilities: DialectCapabilities;
  /** Present where a commit's wait for the disk can be shared and moved off the event loop (SQLite). */
  readonly deferredSync?: DeferredSync;
  /** Present when the dialect can wake other replicas. */
  readonly wake: WakeChannel | undefined;
  close(): Promise<void>;
}

/** Applies every pending migration; throws naming the one that failed. */
export async function migrate(db: Kysely<Schema>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(error as Error).message}`, { cause: error });
  }
}
