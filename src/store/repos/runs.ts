import { type Kysely, type Transaction, type UpdateQueryBuilder, type UpdateResult } from 'kysely';
import {
  IN_FLIGHT_STATES,
  NON_TERMINAL_STATES,
  type JobEffect,
  type JobStore,
  type RunState,
  type RunTransition,
  type Transition,
} from '../../core/jobs/index.js';
import type { DialectCapabilities } from '../dialect.js';
import type { Schema } from '../schema.js';
import { chunks } from '../chunks.js';
import {
  claimBatch,
  completeBatch,
  deliveries,
  finishJobs,
  runTransitions,
  startBatch,
  stopIfTooManyErrors,
  TRANSITION_COLUMNS,
  waiting,
} from './run-batches.js';
import { keepStreamedOutput } from './run-output.js';

type Db = Kysely<Schema> | Transaction<Schema>;
type RunUpdate = UpdateQueryBuilder<Schema, 'runs', 'runs', UpdateResult>;
type Engine = Pick<
  JobStore,
  | 'claimPendingBatch'
  | 'undelivered'
  | 'cancelRequested'
  | 'systemsWithPending'
  | 'markStartedBatch'
  | 'appendChunk'
  | 'completeRuns'
  | 'sweep'
  | 'cancel'
  | 'cancelAbsent'
>;

/** Moves a job's counters; `in_flight` is only kept for jobs with a concurrency limit. */
async function adjustJob(tx: Db, jobId: string, inFlight: number, errors: number): Promise<void> {
  if (inFlight !== 0) {
    await tx
      .updateTable('jobs')
      .set((eb) => ({ in_flight: eb('in_flight', '+', inFlight) }))
      .where('id', '=', jobId)
      .where('max_concurrency', 'is not', null)
      .execute();
  }
  if (errors !== 0)
    await tx
      .updateTable('jobs')
      .set((eb) => ({ errors: eb('errors', '+', errors) }))
      .where('id', '=', jobId)
      .execute();
}

/**
 * Ends the in-flight runs `where` selects, one UPDATE … RETURNING per state
 * they may be in, so each transition knows the state it left without a
 * second read.
 */
async function endInFlight(
  tx: Db,
  set: { state: RunState; reason: string; finished_at: string; ended_at: string; cancel_requested?: number },
  where: (q: RunUpdate) => RunUpdate,
  reason: Transition['reason'],
  at: string,
): Promise<RunTransition[]> {
  const out: RunTransition[] = [];
  for (const from of IN_FLIGHT_STATES) {
    const rows = await where(tx.updateTable('runs').set(set).where('state', '=', from))
      .returning(TRANSITION_COLUMNS)
      .execute();
    out.push(...runTransitions(rows, from, set.state, reason, at));
  }
  return out;
}

/** The run engine on Kysely: claims, results, sweeps and cancellation, each one transaction. */
export function runEngine(db: Kysely<Schema>, capabilities: DialectCapabilities): Engine {
  return {
    claimPendingBatch: (systemIds, at, lostGraceS) => claimBatch(db, capabilities, systemIds, at, lostGraceS),

    async undelivered(systemId, agentActive) {
      let q = db
        .selectFrom('runs')
        .select(['id', 'job_id'])
        .where('system_id', '=', systemId)
        .where('state', '=', 'delivered')
        .where('cancel_requested', '=', 0);
      if (agentActive.length > 0) q = q.where('id', 'not in', agentActive);
      return deliveries(db, await q.orderBy('created_at').execute());
    },

    async cancelRequested(systemId) {
      const rows = await db
        .selectFrom('runs')
        .select('id')
        .where('system_id', '=', systemId)
        .where('cancel_requested', '=', 1)
        .where('state', 'in', IN_FLIGHT_STATES)
        .execute();
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

    async appendChunk(systemId, runId, seq, stream, data, at) {
      const owner = await db.selectFrom('runs').select(['state', 'job_id']).where('id', '=', runId).where('system_id', '=', systemId).executeTakeFirst();
      if (!owner || !NON_TERMINAL_STATES.includes(owner.state as RunState)) return;
      await db
        .insertInto('run_chunks')
        .values({ run_id: runId, job_id: owner.job_id, seq, stream, data, created_at: at })
        .onConflict((oc) => oc.columns(['run_id', 'seq']).doNothing())
        .execute();
    },

    completeRuns: (items, storedAt) => completeBatch(db, capabilities, items, storedAt),

    async sweep(now) {
      return db.transaction().execute(async (tx) => {
        const undeliverable = await tx
          .updateTable('runs')
          .set({ state: 'undeliverable', reason: "the system did not connect before the job's time-to-live passed", finished_at: now, ended_at: now })
          .where('state', '=', 'pending')
          .where('deliver_deadline', '<', now)
          .returning(TRANSITION_COLUMNS)
          .execute();
        const transitions: Transition[] = runTransitions(undeliverable, 'pending', 'undeliverable', 'undeliverable', now);
        const lost = await endInFlight(
          tx,
          { state: 'lost', reason: 'the agent went away during the run and did not report within its timeout plus grace', finished_at: now, ended_at: now },
          (q) =>
            q.where('lost_after', '<', now).where((eb) =>
              eb.exists(
                eb
                  .selectFrom('systems')
                  .select('systems.id')
                  .whereRef('systems.id', '=', 'runs.system_id')
                  // No replica holds the agent's connection: its lease was released, or it expired with a replica that died.
                  .where((s) => s.or([s('systems.lease_expires_at', 'is', null), s('systems.lease_expires_at', '<', now)])),
              ),
            ),
          'lost',
          now,
        );
        transitions.push(...lost);
        await keepStreamedOutput(
          tx,
          lost.map((t) => t.runId),
        );
        const lostPerJob = new Map<string, number>();
        for (const t of lost) lostPerJob.set(t.jobId, (lostPerJob.get(t.jobId) ?? 0) + 1);
        const effects: JobEffect[] = [];
        // Job rows in id order, as every other transaction takes them.
        for (const [jobId, n] of [...lostPerJob].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
          await adjustJob(tx, jobId, -n, n);
          transitions.push(...(await stopIfTooManyErrors(tx, jobId, now)));
          effects.push({ jobId, waitingSystems: await waiting(tx, jobId) });
        }
        transitions.push(...(await finishJobs(tx, capabilities, [...undeliverable.map((r) => r.job_id), ...lostPerJob.keys()], now)));
        return { effects, transitions };
      });
    },

    async cancel(organizationId, target, reason, at) {
      return db.transaction().execute(async (tx) => {
        const byTarget = 'jobId' in target ? (['job_id', target.jobId] as const) : (['id', target.runId] as const);
        const found = await tx
          .selectFrom('runs')
          .select(['job_id'])
          .where('organization_id', '=', organizationId)
          .where(byTarget[0], '=', byTarget[1])
          .executeTakeFirst();
        if (!found) return { found: false, inFlight: [], transitions: [] };
        // Runs before the job row, the order every transaction that ends runs takes its locks in.
        const cancelled = await tx
          .updateTable('runs')
          .set({ state: 'cancelled', reason, finished_at: at, ended_at: at })
          .where(byTarget[0], '=', byTarget[1])
          .where('organization_id', '=', organizationId)
          .where('state', '=', 'pending')
          .returning(TRANSITION_COLUMNS)
          .execute();
        const inFlight = await tx
          .updateTable('runs')
          .set({ cancel_requested: 1, reason })
          .where(byTarget[0], '=', byTarget[1])
          .where('organization_id', '=', organizationId)
          .where('state', 'in', IN_FLIGHT_STATES)
          .returning(['id', 'system_id'])
          .execute();
        const transitions: Transition[] = [];
        if ('jobId' in target) {
          const stopped = await tx
            .updateTable('jobs')
            .set({ stopped_reason: reason })
            .where('id', '=', target.jobId)
            .where('stopped_reason', 'is', null)
            .returning(['organization_id', 'finished_at'])
            .executeTakeFirst();
          // A job that already finished still records why it was stopped, as it always did, but its phase no longer moves.
          if (stopped && stopped.finished_at === null)
            transitions.push({
              kind: 'job',
              jobId: target.jobId,
              organizationId: stopped.organization_id,
              from: 'running',
              to: 'stopped',
              reason: 'cancelled',
              at,
            });
        }
        transitions.push(...runTransitions(cancelled, 'pending', 'cancelled', 'cancelled', at));
        transitions.push(...(await finishJobs(tx, capabilities, [found.job_id], at)));
        return { found: true, inFlight: inFlight.map((r) => ({ runId: r.id, systemId: r.system_id })), transitions };
      });
    },

    async cancelAbsent(systemId, runIds, at) {
      if (runIds.length === 0) return [];
      return db.transaction().execute(async (tx) => {
        const ended = await endInFlight(
          tx,
          { state: 'cancelled', reason: 'cancelled before the agent started it', finished_at: at, ended_at: at, cancel_requested: 0 },
          (q) => q.where('system_id', '=', systemId).where('id', 'in', runIds).where('cancel_requested', '=', 1),
          'cancelled',
          at,
        );
        for (const t of ended) await adjustJob(tx, t.jobId, -1, 0);
        return [
          ...ended,
          ...(await finishJobs(
            tx,
            capabilities,
            ended.map((t) => t.jobId),
            at,
          )),
        ];
      });
    },
  };
}
