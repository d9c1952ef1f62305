import type { Kysely } from 'kysely';

/**
 * A Script's own attributes: key/value pairs a caller sets and reads back
 * (JumpCloud's command template, repeat type, schedule year and listensTo are
 * kept there). Append-only: never edit after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('scripts')
    .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
}
