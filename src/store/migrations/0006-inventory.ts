import type { Kysely } from 'kysely';

/**
 * Inventory: a system's own attributes; enrollment keys that join groups,
 * expire and run out; system users and their bindings to systems.
 * Append-only: never edit after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('systems')
    .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();

  await db.schema
    .alterTable('enrollment_keys')
    .addColumn('group_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema.alterTable('enrollment_keys').addColumn('expires_at', 'text').execute();
  await db.schema.alterTable('enrollment_keys').addColumn('max_uses', 'integer').execute();
  await db.schema
    .alterTable('enrollment_keys')
    .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('system_users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('first_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('last_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('system_users_org_username', ['organization_id', 'username'])
    .execute();
  await db.schema
    .createTable('system_user_bindings')
    .addColumn('user_id', 'text', (c) => c.notNull().references('system_users.id').onDelete('cascade'))
    .addColumn('system_id', 'text', (c) => c.notNull().references('systems.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('system_user_bindings_pk', ['user_id', 'system_id'])
    .execute();
  await db.schema.createIndex('system_user_bindings_system').on('system_user_bindings').column('system_id').execute();
}
