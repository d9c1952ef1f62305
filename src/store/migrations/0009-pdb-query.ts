import type { Kysely } from 'kysely';

/** Creates the fact, fact-content and resource tables with a value split by type. */
async function createTables(db: Kysely<unknown>): Promise<void> {
  for (const table of ['ingest_facts', 'ingest_fact_contents'] as const) {
    let t = db.schema
      .createTable(table)
      .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
      .addColumn('certname', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull());
    if (table === 'ingest_fact_contents') t = t.addColumn('path', 'text', (c) => c.notNull());
    await t
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('value_type', 'text', (c) => c.notNull())
      .addColumn('value_string', 'text')
      .addColumn('value_number', 'double precision')
      .addPrimaryKeyConstraint(
        `${table}_pk`,
        (table === 'ingest_facts' ? ['organization_id', 'certname', 'name'] : ['organization_id', 'certname', 'path']) as never,
      )
      .execute();
    // Queries name a fact far more often than a certname ("which nodes have kernel=Linux").
    await db.schema.createIndex(`${table}_name`).on(table).columns(['organization_id', 'name', 'value_string']).execute();
  }
  await db.schema
    .createTable('ingest_resources')
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('certname', 'text', (c) => c.notNull())
    .addColumn('ordinal', 'integer', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('exported', 'integer', (c) => c.notNull())
    .addColumn('file', 'text')
    .addColumn('line', 'integer')
    .addColumn('parameters', 'text', (c) => c.notNull())
    .addColumn('environment', 'text')
    .addPrimaryKeyConstraint('ingest_resources_pk', ['organization_id', 'certname', 'ordinal'])
    .execute();
  await db.schema.createIndex('ingest_resources_type').on('ingest_resources').columns(['organization_id', 'type', 'title']).execute();
}

/**
 * PuppetDB queries in SQL: facts, fact contents and resources as rows,
 * derived from the latest facts and catalog when they are stored. Nothing to
 * backfill: 0007 (the ingest tables) and this migration were released together,
 * so no database holds facts from before it. Append-only: never edit after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await createTables(db);
}
