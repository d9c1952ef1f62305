import type { Kysely } from 'kysely';

/**
 * The job engine: selectors need tags, groups and comments as queryable data;
 * jobs gain rate control, a time-to-live and cancellation; runs gain their
 * delivery deadline and the moment they count as lost.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('systems')
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .execute();

  await db.schema
    .createTable('system_tags')
    .addColumn('system_id', 'text', (c) => c.notNull().references('systems.id').onDelete('cascade'))
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('system_tags_pk', ['system_id', 'tag'])
    .execute();
  await db.schema.createIndex('system_tags_tag').on('system_tags').column('tag').execute();

  await db.schema
    .createTable('groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('groups_org_name', ['organization_id', 'name'])
    .execute();
  await db.schema
    .createTable('group_members')
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('system_id', 'text', (c) => c.notNull().references('systems.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'system_id'])
    .execute();
  await db.schema.createIndex('group_members_system').on('group_members').column('system_id').execute();

  const jobColumns: Array<[string, 'text' | 'integer', unknown]> = [
    ['selector', 'text', null],
    ['run_as', 'text', null],
    ['max_concurrency', 'integer', null],
    ['max_errors', 'integer', null],
    ['ttl_s', 'integer', 3600],
    ['in_flight', 'integer', 0],
    ['errors', 'integer', 0],
    ['stopped_reason', 'text', null],
    ['retry_of', 'text', null],
    ['script_id', 'text', null],
  ];
  for (const [name, type, def] of jobColumns) {
    await db.schema
      .alterTable('jobs')
      .addColumn(name, type, (c) => (def === null ? c : c.notNull().defaultTo(def)))
      .execute();
  }
  await db.schema.alterTable('runs').addColumn('deliver_deadline', 'text').execute();
  await db.schema.alterTable('runs').addColumn('lost_after', 'text').execute();
  await db.schema
    .alterTable('runs')
    .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('runs_state_deadline').on('runs').columns(['state', 'deliver_deadline']).execute();
}
