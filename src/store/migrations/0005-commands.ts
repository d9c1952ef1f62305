import type { Kysely } from 'kysely';

/**
 * Commands: saved scripts gain JumpCloud's extras (trigger, launch type,
 * schedule, run-on-enroll, target platform) and the next fire time that the
 * scheduler claims with a compare-and-set. Triggers with their own secret,
 * trigger idempotency keys, and hidden command results get tables of their
 * own. Append-only: never edit after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // SQLite adds one column per ALTER statement.
  const add = (name: string, type: 'text' | 'integer', notNullDefault?: string | number) =>
    db.schema
      .alterTable('scripts')
      .addColumn(name, type, (c) => (notNullDefault === undefined ? c : c.notNull().defaultTo(notNullDefault)))
      .execute();
  await add('trigger_name', 'text');
  await add('launch_type', 'text', 'manual');
  await add('schedule', 'text');
  await add('timezone', 'text');
  await add('run_at', 'text');
  await add('run_on_enroll', 'integer', 0);
  await add('platform', 'text');
  await add('next_fire_at', 'text');
  // A fire claimed but not yet launched: a replica that died in between is found and finished by another.
  await add('pending_fire', 'text');
  await add('pending_since', 'text');
  await db.schema.createIndex('scripts_org_trigger').on('scripts').columns(['organization_id', 'trigger_name']).execute();
  await db.schema.createIndex('scripts_next_fire').on('scripts').column('next_fire_at').execute();

  await db.schema
    .createTable('triggers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addUniqueConstraint('triggers_org_name', ['organization_id', 'name'])
    .execute();
  await db.schema.createIndex('triggers_name').on('triggers').column('name').execute();

  await db.schema
    .createTable('trigger_calls')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('trigger_name', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('trigger_calls_pk', ['organization_id', 'trigger_name', 'idempotency_key'])
    .execute();
  await db.schema.createIndex('trigger_calls_expires').on('trigger_calls').column('expires_at').execute();

  await db.schema
    .createTable('hidden_command_results')
    .addColumn('run_id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('hidden_at', 'text', (c) => c.notNull())
    .execute();
}
