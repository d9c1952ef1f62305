import type { Kysely } from 'kysely';

/**
 * Integer ids for faces whose clients expect JSON numbers (the
 * SimpleMDM-compatible API), custom attribute definitions, and what a
 * script job launched through that face asked for (its name, targets and the
 * custom attribute its output is captured into). `integer_ids` numbers each
 * kind of entity (script, job, system, group, run) with one sequence across
 * all organizations, so a number names one entity wherever it is sent; the
 * organization column scopes every lookup. Append-only: never edit after
 * release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('integer_ids')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('native_id', 'text', (c) => c.notNull())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('integer_ids_pk', ['kind', 'number'])
    .addUniqueConstraint('integer_ids_native', ['kind', 'native_id'])
    .execute();

  await db.schema
    .createTable('custom_attributes')
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('default_value', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('custom_attributes_pk', ['organization_id', 'name'])
    .execute();

  await db.schema
    .createTable('script_job_links')
    .addColumn('job_id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('job_name', 'text', (c) => c.notNull())
    .addColumn('target_types', 'text', (c) => c.notNull())
    .addColumn('group_ids', 'text', (c) => c.notNull())
    .addColumn('variable_support', 'integer', (c) => c.notNull())
    .addColumn('custom_attribute', 'text')
    .addColumn('custom_attribute_regex', 'text')
    .execute();
}
