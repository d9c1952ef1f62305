import type { Kysely } from 'kysely';

/**
 * Live output is kept after a run ends (so an event stream can be replayed
 * from any point) and is read per job in (created_at, run_id, seq) order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('run_chunks').addColumn('job_id', 'text').execute();
  await db.schema.createIndex('run_chunks_job_order').on('run_chunks').columns(['job_id', 'created_at', 'run_id', 'seq']).execute();
  // When the server stored the run's end (finished_at is the agent's clock): event streams order by it.
  await db.schema.alterTable('runs').addColumn('ended_at', 'text').execute();
  await db.schema.createIndex('runs_job_ended').on('runs').columns(['job_id', 'ended_at', 'id']).execute();
}
