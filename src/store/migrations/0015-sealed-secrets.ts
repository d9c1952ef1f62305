import type { Kysely } from 'kysely';

/**
 * Trigger secrets are sealed at rest (lib/secret-box.ts). The key never
 * enters the database, so sealing the secrets already stored cannot happen
 * in a migration, which sees only the database: the server does it at start,
 * right after migrating (store/repos/triggers.ts, sealTriggerSecrets), and
 * again at every start, which also seals what a replica of an older version
 * wrote during a rolling upgrade.
 *
 * This table names the key the secrets are sealed with, one row. A server
 * whose keyring does not hold that key refuses to start, instead of failing
 * every signed trigger call: several replicas must share one key. Its id is
 * a hash prefix, not the key. Append-only: never edit after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sealing_key')
    .addColumn('slot', 'text', (c) => c.primaryKey())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}
