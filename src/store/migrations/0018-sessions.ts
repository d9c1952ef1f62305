import type { Kysely } from 'kysely';

/**
 * Interactive sessions, their recordings, console-script tickets and each
 * organization's session settings. A recording is asciicast v2 event lines stored in parts (one
 * row per flush, in `seq` order), so every replica can serve it and a
 * session's bytes never wait for a large write. Append-only: never edit
 * after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('system_id', 'text', (c) => c.notNull())
    .addColumn('opened_by', 'text', (c) => c.notNull())
    .addColumn('replica_id', 'text')
    .addColumn('run_as', 'text')
    .addColumn('criteria', 'text')
    .addColumn('selector', 'text')
    .addColumn('custom', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('end_reason', 'text')
    .addColumn('end_message', 'text')
    .addColumn('ended_by', 'text')
    .addColumn('exit_code', 'integer')
    .addColumn('signal', 'text')
    .addColumn('pty', 'integer')
    .addColumn('notice', 'text')
    .addColumn('record_input', 'integer', (c) => c.notNull())
    .addColumn('idle_timeout_s', 'integer', (c) => c.notNull())
    .addColumn('max_duration_s', 'integer', (c) => c.notNull())
    .addColumn('cols', 'integer', (c) => c.notNull())
    .addColumn('rows', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('ended_at', 'text')
    .execute();
  await db.schema.createIndex('sessions_org_created').on('sessions').columns(['organization_id', 'created_at']).execute();
  await db.schema.createIndex('sessions_state').on('sessions').column('state').execute();

  await db.schema
    .createTable('session_recordings')
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('lines', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('session_recordings_pk', ['session_id', 'seq'])
    .execute();

  // A console script's single-use ticket: only its digest is kept; bound to the key that generated it.
  await db.schema
    .createTable('session_tickets')
    .addColumn('digest', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('issued_to', 'text', (c) => c.notNull())
    .addColumn('criteria', 'text', (c) => c.notNull())
    .addColumn('custom', 'text', (c) => c.notNull())
    .addColumn('run_as', 'text')
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();

  await db.schema
    .createTable('session_settings')
    .addColumn('organization_id', 'text', (c) => c.primaryKey().references('organizations.id'))
    .addColumn('record_input', 'integer', (c) => c.notNull())
    .addColumn('custom_fields', 'text', (c) => c.notNull())
    .execute();
}
