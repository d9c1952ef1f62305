import type { Kysely } from 'kysely';

/** Saved scripts, unique by name within an organization. Append-only: never edit after release. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('scripts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('shell', 'text', (c) => c.notNull())
    .addColumn('run_as', 'text')
    .addColumn('timeout_s', 'integer', (c) => c.notNull())
    .addColumn('ttl_s', 'integer', (c) => c.notNull())
    .addColumn('default_targets', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('scripts_org_name').on('scripts').columns(['organization_id', 'name']).unique().execute();
}
