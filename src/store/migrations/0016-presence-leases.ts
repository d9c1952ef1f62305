import type { Kysely } from 'kysely';

/**
 * Which replica holds each agent's connection, and until when: a system is
 * connected while `lease_expires_at` is in the future. The holder renews its
 * leases while the connection stays open and clears them on a clean
 * shutdown; a replica that dies leaves leases that simply expire. The index
 * serves that shutdown (every system one replica holds).
 *
 * `connected` and `last_contact` are still written alongside, for readers of
 * the former flag (the lost-run sweep). Append-only: never edit after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('systems').addColumn('replica_id', 'text').execute();
  await db.schema.alterTable('systems').addColumn('lease_expires_at', 'text').execute();
  await db.schema.createIndex('systems_replica_id').on('systems').column('replica_id').execute();
}
