import type { Kysely } from 'kysely';

/**
 * What lets a session opened or attached through one replica reach the
 * replica holding its agent: each replica's peer address, under a lease it
 * renews, and attach tickets kept in the database (a browser's ticket is
 * minted by one replica and redeemed by whichever its WebSocket reaches).
 * Append-only: never edit after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('replica_peers')
    .addColumn('replica_id', 'text', (c) => c.primaryKey())
    .addColumn('peer_url', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  // Only the ticket's digest is kept.
  await db.schema
    .createTable('attach_tickets')
    .addColumn('digest', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('attach_tickets_expires').on('attach_tickets').column('expires_at').execute();
}
