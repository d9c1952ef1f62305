import { sql, type Kysely, type Transaction } from 'kysely';
import type { JobEffect, JobStore, RunState } from '../../core/jobs/index.js';
import type { DialectCapabilities } from '../dialect.js';
import type { Schema } from '../schema.js';
import { chunks } from '../chunks.js';
import { claimBatch, completeBatch, deliveries, finishJobs, startBatch, stopIfTooManyErrors, waiting } from './run-batches.js';
import { keepStreamedOutput } from './run-output.js';

type Db = Kysely<Schema> | Transaction<Schema>;
type Engine = Pick<
  JobStore,
  | 'claimPending' | 'claimPendingBatch' | 'undelivered' | 'cancelRequested' | 'systemsWithPending' | 'markStarted' | 'markStartedBatch' | 'appendChunk'
  | 'completeRun' | 'completeRuns' | 'sweep' | 'cancel' | 'cancelAbsent'
>;

const IN_FLIGHT: RunState[] = ['delivered', 'running'];
const NON_TERMINAL: RunState[] = ['pending', 'delivered', 'running'];
/** A system unseen for this long counts as absent when deciding that its runs are lost (presence is refreshed every 30 s). */
const ABSENT_AFTER_MS = 90_000;

/** Moves a job's counters; `in_flight` is only kept for jobs with a concurrency limit. */
async function adjustJob(tx: Db, jobId: string, inFlight: number, errors: number): Promise<void> {
  if (inFlight !== 0) {
    await tx.updateTable('jobs').set((eb) => ({ in_flight: eb('in_flight', '+', inFlight) })).where('id', '=', jobId).where('max_concurrency', 'is not', null).execute();
  }
  if (errors !== 0) await tx.updateTable('jobs').set((eb) => ({ errors: eb('errors', '+', errors) })).where('id', '=', jobId).execute();
}

/** The run engine on Kysely: claims, results, sweeps and cancellation, each one transaction. */
export function runEngine(db: Kysely<Schema>, capabilities: DialectCapabilities): Engine {
  return {
    claimPendingBatch: (systemIds, at, lostGraceS) => claimBatch(db, capabilities, systemIds, at, lostGraceS),

    async claimPending(systemId, at, lostGraceS) {
      return (await claimBatch(db, capabilities, [systemId], at, lostGraceS)).get(systemId) ?? [];
    },

    async undelivered(systemId, agentActive) {
      let q = db.selectFrom('runs').select(['id', 'job_id']).where('system_id', '=', systemId).where('state', '=', 'delivered').where('cancel_requested', '=', 0);
      if (agentActive.length > 0) q = q.where('id', 'not in', agentActive);
      return deliveries(db, await q.orderBy('created_at').execute());
    },

    async cancelRequested(systemId) {
      const rows = await db.selectFrom('runs').select('id').where('system_id', '=', systemId).where('cancel_requested', '=', 1).where('state', 'in', IN_FLIGHT).execute();
      return rows.map((r) => r.id);
    },

    async systemsWithPending(systemIds) {
      // Chunked: 50,000 connected ids in one IN list would pass SQLite's 32,766-parameter limit.
      const out: string[] = [];
      for (const part of chunks(systemIds)) {
        const rows = await db.selectFrom('runs').select('system_id').distinct().where('system_id', 'in', part).where('state', '=', 'pending').execute();
        out.push(...rows.map((r) => r.system_id));
      }
      return out;
    },

    markStartedBatch: (items) => startBatch(db, items),

    async markStarted(systemId, runId, at) {
      await db.updateTable('runs').set({ state: 'running', started_at: at }).where('id', '=', runId).where('system_id', '=', systemId).where('state', '=', 'delivered').execute();
    },

    async appendChunk(systemId, runId, seq, stream, data, at) {
      const owner = await db.selectFrom('runs').select(['state', 'job_id']).where('id', '=', runId).where('system_id', '=', systemId).executeTakeFirst();
      if (!owner || !NON_TERMINAL.includes(owner.state as RunState)) return;
      await db.insertInto('run_chunks').values({ run_id: runId, job_id: owner.job_id, seq, stream, data, created_at: at }).onConflict((oc) => oc.columns(['run_id', 'seq']).doNothing()).execute();
    },

    completeRuns: (items, storedAt) => completeBatch(db, capabilities, items, storedAt),

    async completeRun(systemId, runId, completion, storedAt) {
      const { outcomes, effects } = await completeBatch(db, capabilities, [{ systemId, runId, completion }], storedAt);
      return outcomes[0] === 'stored' ? { outcome: 'stored', effect: effects[0] ?? { jobId: '', waitingSystems: [] } } : { outcome: outcomes[0]! };
    },

    async sweep(now) {
      return db.transaction().execute(async (tx) => {
        const undeliverable = await tx
          .updateTable('runs')
          .set({ state: 'undeliverable', reason: 'the system did not connect before the job\'s time-to-live passed', finished_at: now, ended_at: now })
          .where('state', '=', 'pending')
          .where('deliver_deadline', '<', now)
          .returning('job_id')
          .execute();
        const absentSince = new Date(Date.parse(now) - ABSENT_AFTER_MS).toISOString();
        const lost = await tx
          .updateTable('runs')
          .set({ state: 'lost', reason: 'the agent went away during the run and did not report within its timeout plus grace', finished_at: now, ended_at: now })
          .where('state', 'in', IN_FLIGHT)
          .where('lost_after', '<', now)
          .where((eb) =>
            eb.exists(
              eb.selectFrom('systems').select('systems.id').whereRef('systems.id', '=', 'runs.system_id')
                .where((s) => s.or([s('systems.connected', '=', 0), s('systems.last_contact', '<', absentSince)])),
            ),
          )
          .returning(['id', 'job_id'])
          .execute();
        await keepStreamedOutput(tx, lost.map((r) => r.id));
        const lostPerJob = new Map<string, number>();
        for (const r of lost) lostPerJob.set(r.job_id, (lostPerJob.get(r.job_id) ?? 0) + 1);
        const effects: JobEffect[] = [];
        for (const [jobId, n] of lostPerJob) {
          await adjustJob(tx, jobId, -n, n);
          await stopIfTooManyErrors(tx, jobId, now);
          effects.push({ jobId, waitingSystems: await waiting(tx, jobId) });
        }
        await finishJobs(tx, [...undeliverable.map((r) => r.job_id), ...lostPerJob.keys()], now);
        return effects;
      });
    },

    async cancel(organizationId, target, reason, at) {
      return db.transaction().execute(async (tx) => {
        const byTarget = 'jobId' in target ? (['job_id', target.jobId] as const) : (['id', target.runId] as const);
        const found = await tx.selectFrom('runs').select(['job_id']).where('organization_id', '=', organizationId).where(byTarget[0], '=', byTarget[1]).executeTakeFirst();
        if (!found) return { found: false, inFlight: [] };
        if ('jobId' in target) {
          await tx.updateTable('jobs').set({ stopped_reason: sql<string>`coalesce(stopped_reason, ${reason})` }).where('id', '=', target.jobId).execute();
        }
        await tx.updateTable('runs').set({ state: 'cancelled', reason, finished_at: at, ended_at: at }).where(byTarget[0], '=', byTarget[1]).where('organization_id', '=', organizationId).where('state', '=', 'pending').execute();
        const inFlight = await tx
          .updateTable('runs')
          .set({ cancel_requested: 1, reason })
          .where(byTarget[0], '=', byTarget[1])
          .where('organization_id', '=', organizationId)
          .where('state', 'in', IN_FLIGHT)
          .returning(['id', 'system_id'])
          .execute();
        await finishJobs(tx, [found.job_id], at);
        return { found: true, inFlight: inFlight.map((r) => ({ runId: r.id, systemId: r.system_id })) };
      });
    },

    async cancelAbsent(systemId, runIds, at) {
      if (runIds.length === 0) return;
      await db.transaction().execute(async (tx) => {
        const ended = await tx
          .updateTable('runs')
          .set({ state: 'cancelled', reason: 'cancelled before the agent started it', finished_at: at, ended_at: at, cancel_requested: 0 })
          .where('system_id', '=', systemId)
          .where('id', 'in', runIds)
          .where('state', 'in', IN_FLIGHT)
          .where('cancel_requested', '=', 1)
          .returning('job_id')
          .execute();
        for (const r of ended) await adjustJob(tx, r.job_id, -1, 0);
        await finishJobs(tx, ended.map((r) => r.job_id), at);
      });
    },
  };
}
