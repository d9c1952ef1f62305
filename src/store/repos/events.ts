import { sql, type Kysely, type SqlBool } from 'kysely';
import { NON_TERMINAL_STATES, TERMINAL_STATES, type EndedEvent, type JobStore, type OutputEvent, type RunState } from '../../core/jobs/index.js';
import type { Schema } from '../schema.js';

/** Event replay for live streams: output chunks and ended runs after a cursor, oldest first. */
export function eventReader(db: Kysely<Schema>): Pick<JobStore, 'readEvents'> {
  return {
    async readEvents(organizationId, scope, cursor, limit) {
      const owner =
        'jobId' in scope
          ? await db.selectFrom('jobs').select('id as job_id').where('organization_id', '=', organizationId).where('id', '=', scope.jobId).executeTakeFirst()
          : await db.selectFrom('runs').select('job_id').where('organization_id', '=', organizationId).where('id', '=', scope.runId).executeTakeFirst();
      if (!owner) return undefined;
      const jobId = owner.job_id;
      const runId = 'runId' in scope ? scope.runId : undefined;

      // Whether runs are still open is read first: a run that ends after this read is then still in
      // the rows below or in the next read, so `done` never overtakes the last run's events.
      let open = db.selectFrom('runs').select('runs.id').where('runs.job_id', '=', jobId).where('runs.state', 'in', NON_TERMINAL_STATES);
      if (runId) open = open.where('runs.id', '=', runId);
      const stillOpen = await open.limit(1).executeTakeFirst();

      let chunks = db
        .selectFrom('run_chunks')
        .innerJoin('runs', 'runs.id', 'run_chunks.run_id')
        .leftJoin('systems', 'systems.id', 'runs.system_id')
        .select(['run_chunks.run_id', 'run_chunks.seq', 'run_chunks.stream', 'run_chunks.data', 'run_chunks.created_at', 'runs.system_id', 'systems.hostname'])
        .where('run_chunks.job_id', '=', jobId);
      if (runId) chunks = chunks.where('run_chunks.run_id', '=', runId);
      const o = cursor.output;
      if (o) chunks = chunks.where(sql<SqlBool>`(run_chunks.created_at, run_chunks.run_id, run_chunks.seq) > (${o[0]}, ${o[1]}, ${o[2]})`);
      const outRows = await chunks.orderBy('run_chunks.created_at').orderBy('run_chunks.run_id').orderBy('run_chunks.seq').limit(limit).execute();

      let ended = db
        .selectFrom('runs')
        .leftJoin('systems', 'systems.id', 'runs.system_id')
        .select(['runs.id', 'runs.system_id', 'systems.hostname', 'runs.state', 'runs.exit_code', 'runs.signal', 'runs.reason', 'runs.ended_at'])
        .where('runs.job_id', '=', jobId)
        .where('runs.state', 'in', [...TERMINAL_STATES])
        .where('runs.ended_at', 'is not', null);
      if (runId) ended = ended.where('runs.id', '=', runId);
      const e = cursor.ended;
      if (e) ended = ended.where(sql<SqlBool>`(runs.ended_at, runs.id) > (${e[0]}, ${e[1]})`);
      const endRows = await ended.orderBy('runs.ended_at').orderBy('runs.id').limit(limit).execute();

      return {
        jobId,
        output: outRows.map((r): OutputEvent => ({
          runId: r.run_id,
          systemId: r.system_id,
          hostname: r.hostname ?? '',
          seq: Number(r.seq),
          stream: r.stream as 'stdout' | 'stderr',
          data: r.data,
          createdAt: r.created_at,
        })),
        ended: endRows.map((r): EndedEvent => ({
          runId: r.id,
          systemId: r.system_id,
          hostname: r.hostname ?? '',
          state: r.state as RunState,
          exitCode: r.exit_code === null ? null : Number(r.exit_code),
          signal: r.signal,
          reason: r.reason,
          endedAt: r.ended_at!,
        })),
        done: !stillOpen && outRows.length < limit && endRows.length < limit,
      };
    },
  };
}
