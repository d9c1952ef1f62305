import type { Kysely } from 'kysely';
import { replaceFactRows, replaceResourceRows } from '../queue/derived.js';
import type { Schema } from '../schema.js';

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
      .addPrimaryKeyConstraint(`${table}_pk`, (table === 'ingest_facts' ? ['organization_id', 'certname', 'name'] : ['organization_id', 'certname', 'path']) as never)
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

// Pages of the backfill: bounded memory whatever the number of nodes.
const PAGE = 200;

/** Derives rows for the facts and catalogs stored before this migration, a page of certnames at a time. */
async function backfill(db: Kysely<Schema>): Promise<void> {
  let after = { org: '', certname: '' };
  for (;;) {
    const nodes = await db
      .selectFrom('ingest_nodes as n')
      .leftJoin('ingest_catalogs as c', (j) => j.onRef('c.organization_id', '=', 'n.organization_id').onRef('c.certname', '=', 'n.certname'))
      .select(['n.organization_id', 'n.certname', 'n.facts', 'c.body'])
      .where((eb) => eb.or([eb('n.organization_id', '>', after.org), eb.and([eb('n.organization_id', '=', after.org), eb('n.certname', '>', after.certname)])]))
      .orderBy('n.organization_id')
      .orderBy('n.certname')
      .limit(PAGE)
      .execute();
    if (nodes.length === 0) return;
    for (const n of nodes) {
      if (n.facts) await replaceFactRows(db, [{ org: n.organization_id, certname: n.certname, values: JSON.parse(n.facts) as Record<string, unknown> }]);
      const body = n.body ? (JSON.parse(n.body) as Record<string, unknown>) : undefined;
      if (body) await replaceResourceRows(db, [{ org: n.organization_id, certname: n.certname, environment: typeof body.environment === 'string' ? body.environment : null, body }]);
    }
    const last = nodes[nodes.length - 1]!;
    after = { org: last.organization_id, certname: last.certname };
  }
}

/**
 * PuppetDB queries in SQL: facts, fact contents and resources as rows,
 * derived from the latest facts and catalog when they are stored, and filled
 * here for what was stored before. Append-only: never edit after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await createTables(db);
  await backfill(db as Kysely<Schema>);
}
