import type { Kysely } from 'kysely';

/**
 * A run's own environment variables (JSON text), laid over its job's when the
 * run is delivered, so one job can give each system its own values. Null for
 * a run that has none, which is every run written before this migration.
 * Append-only: never edit after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('env', 'text').execute();
}
