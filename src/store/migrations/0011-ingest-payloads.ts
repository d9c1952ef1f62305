import { sql, type Kysely } from 'kysely';

/**
 * Command payloads move to their own table. In ingest_commands, every state
 * change (claim, completion) rewrote the whole row, payload included: an
 * 8 KB report was written four times, its overflow pages each time (measured
 * with SQLite's WAL frame counts). Now a claim rewrites a small row that
 * shares its page with others, and a completion deletes the payload.
 * Append-only: never edit after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ingest_payloads')
    .addColumn('id', 'text', (c) => c.primaryKey().references('ingest_commands.id').onDelete('cascade'))
    .addColumn('payload', 'text', (c) => c.notNull())
    .execute();
  await sql`insert into ingest_payloads (id, payload) select id, payload from ingest_commands where payload is not null`.execute(db);
  await db.schema.alterTable('ingest_commands').dropColumn('payload').execute();
}
