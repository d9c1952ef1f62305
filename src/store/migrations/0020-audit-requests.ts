import type { Kysely } from 'kysely';

/**
 * The request each audit event came through (its id, the client address),
 * and indexes for the audit log's filters: each leads with the organization
 * (every read is one tenant's) and ends with the time the log is ordered by.
 * Retention deletes through `audit_org_created` too, one organization at a
 * time: an index on the time alone would be one more B-tree every event
 * writes. Request ids are time-ordered (UUIDv7) unless a client sends its own,
 * so `audit_org_request` grows at its end. Events written before this migration have no request (null).
 * Append-only: never edit after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('request_id', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('source_ip', 'text').execute();
  await db.schema.createIndex('audit_org_action_created').on('audit_events').columns(['organization_id', 'action', 'created_at']).execute();
  await db.schema.createIndex('audit_org_actor_created').on('audit_events').columns(['organization_id', 'actor', 'created_at']).execute();
  await db.schema.createIndex('audit_org_target').on('audit_events').columns(['organization_id', 'target_type', 'target_id', 'created_at']).execute();
  await db.schema.createIndex('audit_org_request').on('audit_events').columns(['organization_id', 'request_id']).execute();
}
