import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * The ingest queue (PuppetDB-style commands), the data they produce (nodes with
 * their facts, catalogs, reports, catalog inputs) and a certname on systems.
 * Append-only: never edit after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ingest_commands')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('command', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('certname', 'text', (c) => c.notNull())
    .addColumn('producer_timestamp', 'text')
    .addColumn('payload', 'text')
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('available_at', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'text')
    .addColumn('error', 'text')
    .addColumn('diagnostics', 'text')
    .addColumn('processed_at', 'text')
    .execute();
  await db.schema.createIndex('ingest_commands_ready').on('ingest_commands').columns(['state', 'available_at']).execute();
  await db.schema.createIndex('ingest_commands_certname').on('ingest_commands').columns(['organization_id', 'certname', 'state']).execute();

  await db.schema
    .createTable('ingest_nodes')
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('certname', 'text', (c) => c.notNull())
    .addColumn('deactivated', 'text')
    .addColumn('expire_facts', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('environment', 'text')
    .addColumn('facts', 'text')
    .addColumn('facts_hash', 'text')
    .addColumn('facts_environment', 'text')
    .addColumn('facts_producer', 'text')
    .addColumn('facts_timestamp', 'text')
    .addColumn('facts_producer_timestamp', 'text')
    .addColumn('catalog_timestamp', 'text')
    .addColumn('catalog_producer_timestamp', 'text')
    .addColumn('catalog_environment', 'text')
    .addColumn('report_timestamp', 'text')
    .addColumn('report_producer_timestamp', 'text')
    .addColumn('report_environment', 'text')
    .addColumn('latest_report_hash', 'text')
    .addColumn('latest_report_status', 'text')
    .addColumn('latest_report_noop', 'integer')
    .addColumn('latest_report_noop_pending', 'integer')
    .addColumn('latest_report_corrective_change', 'integer')
    .addColumn('latest_report_job_id', 'text')
    .addColumn('cached_catalog_status', 'text')
    .addPrimaryKeyConstraint('ingest_nodes_pk', ['organization_id', 'certname'])
    .execute();

  await db.schema
    .createTable('ingest_catalogs')
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('certname', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('producer_timestamp', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ingest_catalogs_pk', ['organization_id', 'certname'])
    .execute();

  await db.schema
    .createTable('ingest_reports')
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('certname', 'text', (c) => c.notNull())
    .addColumn('producer_timestamp', 'text', (c) => c.notNull())
    .addColumn('end_time', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ingest_reports_pk', ['organization_id', 'hash'])
    .execute();
  await db.schema.createIndex('ingest_reports_certname').on('ingest_reports').columns(['organization_id', 'certname', 'end_time']).execute();

  await db.schema
    .createTable('ingest_catalog_inputs')
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('certname', 'text', (c) => c.notNull())
    .addColumn('producer_timestamp', 'text', (c) => c.notNull())
    .addColumn('catalog_uuid', 'text')
    .addColumn('inputs', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ingest_catalog_inputs_pk', ['organization_id', 'certname'])
    .execute();

  await db.schema.alterTable('systems').addColumn('certname', 'text').execute();

  // Selectors read structured facts with one SQL spelling on both databases:
  // muster_fact(json, 'a.b') → text, muster_regexp(pattern, text) → boolean.
  // SQLite gets them as functions registered on the connection (store/sqlite.ts).
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`create or replace function muster_fact(doc text, path text) returns text language sql immutable as $$
      select case jsonb_typeof(doc::jsonb #> string_to_array(path, '.'))
        when 'string' then doc::jsonb #>> string_to_array(path, '.')
        when 'null' then null
        else (doc::jsonb #> string_to_array(path, '.'))::text end $$`.execute(db);
    await sql`create or replace function muster_regexp(pattern text, value text) returns boolean language sql immutable as $$ select value ~ pattern $$`.execute(
      db,
    );
  }
}
