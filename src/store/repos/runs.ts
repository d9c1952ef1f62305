import { sql, type Kysely, type Transaction } from 'kysely';
import { ERROR_STATES, TERMINAL_STATES, type Delivery, type JobEffect, type JobStore, type RunState } from '../../core/jobs/index.js';
import type { DialectCapabilities } from '../dialect.js';
import type { Schema } from '../schema.js';
import { fromJson } from './json.js';

type Db = Kysely<Schema> | Transaction<Schema>;
type Engine = Pick<
  JobStore,
  'claimPending' | 'undelivered' | 'cancelRequested' | 'systemsWithPending' | 'markStarted' | 'appendChunk' | 'completeRun' | 'sweep' | 'cancel' | 'cancelAbsent'
>;

const IN_FLIGHT: RunState[] = ['delivered', 'running'];
const NON_TERMINAL: RunState[] = ['pending', 'delivered', 'running'];
/** A system unseen for this long counts as absent when deciding that its runs are lost (presence is refreshed every 30 s). */
const ABSENT_AFTER_MS = 90_000;
/** How many waiting systems one freed slot wakes at most (each wake re-reads the database). */
const WAKE_BATCH = 100;

function isError(state: string): boolean {
  return (ERROR_STATES as readonly string[]).includes(state);
}

/** Moves a job's counters; `in_flight` is only kept for jobs with a concurrency limit. */
async function adjustJob(tx: Db, jobId: string, inFlight: number, errors: number): Promise<void> {
  if (inFlight !== 0) {
    await tx.updateTable('jobs').set((eb) => ({ in_flight: eb('in_flight', '+', inFlight) })).where('id', '=', jobId).where('max_concurrency', 'is not', null).execute();
  }
  if (errors !== 0) await tx.updateTable('jobs').set((eb) => ({ errors: eb('errors', '+', errors) })).where('id', '=', jobId).execute();
}

/** Past max_errors: stop delivery and end the job's waiting runs `cancelled`, with the reason. */
async function stopIfTooManyErrors(tx: Db, jobId: string, at: string): Promise<void> {
  const job = await tx.selectFrom('jobs').select(['errors', 'max_errors', 'stopped_reason']).where('id', '=', jobId).executeTakeFirst();
  if (!job || job.max_errors === null || job.stopped_reason !== null || Number(job.errors) <= Number(job.max_errors)) return;
  const reason = `not started: ${job.errors} runs failed, more than max_errors (${job.max_errors})`;
  await tx.updateTable('jobs').set({ stopped_reason: reason }).where('id', '=', jobId).execute();
  await tx.updateTable('runs').set({ state: 'cancelled', reason, finished_at: at, ended_at: at }).where('job_id', '=', jobId).where('state', '=', 'pending').execute();
}

/** Stamps finished_at on jobs whose runs have all ended. */
async function finishJobs(tx: Db, jobIds: Iterable<string>, at: string): Promise<void> {
  for (const jobId of new Set(jobIds)) {
    await tx
      .updateTable('jobs')
      .set({ finished_at: at })
      .where('id', '=', jobId)
      .where('finished_at', 'is', null)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('runs').select('runs.id').where('runs.job_id', '=', jobId).where('runs.state', 'in', NON_TERMINAL))))
      .execute();
  }
}

/** Systems still waiting on a job whose slot just freed. */
async function waiting(tx: Db, jobId: string): Promise<string[]> {
  const rows = await tx.selectFrom('runs').select('system_id').where('job_id', '=', jobId).where('state', '=', 'pending').limit(WAKE_BATCH).execute();
  return rows.map((r) => r.system_id);
}

async function deliveries(tx: Db, runs: Array<{ id: string; job_id: string }>): Promise<Delivery[]> {
  if (runs.length === 0) return [];
  const jobs = await tx.selectFrom('jobs').select(['id', 'shell', 'content', 'env', 'timeout_s', 'run_as']).where('id', 'in', [...new Set(runs.map((r) => r.job_id))]).execute();
  const byId = new Map(jobs.map((j) => [j.id, j]));
  return runs.flatMap((r) => {
    const j = byId.get(r.job_id);
    return j ? [{ runId: r.id, jobId: r.job_id, shell: j.shell, content: j.content, env: fromJson<Record<string, string>>(j.env, {}), timeoutS: Number(j.timeout_s), runAs: j.run_as }] : [];
  });
}

/** The run engine on Kysely: claims, results, sweeps and cancellation, each one transaction. */
export function runEngine(db: Kysely<Schema>, capabilities: DialectCapabilities): Engine {
  return {
    async claimPending(systemId, at, lostGraceS) {
      return db.transaction().execute(async (tx) => {
        let q = tx
          .selectFrom('runs')
          .innerJoin('jobs', 'jobs.id', 'runs.job_id')
          .select(['runs.id', 'runs.job_id', 'runs.deliver_deadline', 'jobs.timeout_s', 'jobs.max_concurrency'])
          .where('runs.system_id', '=', systemId)
          .where('runs.state', '=', 'pending')
          .where('runs.cancel_requested', '=', 0)
          .where('jobs.stopped_reason', 'is', null)
          // One global order of jobs, so two replicas taking slots never deadlock.
          .orderBy('runs.created_at')
          .orderBy('runs.job_id');
        if (capabilities.supportsSkipLocked) q = q.forUpdate('runs').skipLocked();
        const claimed: Array<{ id: string; job_id: string }> = [];
        for (const c of await q.execute()) {
          if (c.deliver_deadline !== null && c.deliver_deadline < at) continue;
          if (c.max_concurrency !== null) {
            const slot = await tx
              .updateTable('jobs')
              .set((eb) => ({ in_flight: eb('in_flight', '+', 1) }))
              .where('id', '=', c.job_id)
              .where('stopped_reason', 'is', null)
              .where((eb) => eb('in_flight', '<', eb.ref('max_concurrency')))
              .executeTakeFirst();
            if (Number(slot.numUpdatedRows) !== 1) continue;
          }
          const lostAfter = new Date(Date.parse(at) + (Number(c.timeout_s) + lostGraceS) * 1000).toISOString();
          const won = await tx.updateTable('runs').set({ state: 'delivered', delivered_at: at, lost_after: lostAfter }).where('id', '=', c.id).where('state', '=', 'pending').executeTakeFirst();
          if (Number(won.numUpdatedRows) === 1) claimed.push(c);
          else if (c.max_concurrency !== null) await adjustJob(tx, c.job_id, -1, 0);
        }
        return deliveries(tx, claimed);
      });
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
      const rows = await db.selectFrom('runs').select('system_id').distinct().where('system_id', 'in', systemIds).where('state', '=', 'pending').execute();
      return rows.map((r) => r.system_id);
    },

    async markStarted(systemId, runId, at) {
      await db.updateTable('runs').set({ state: 'running', started_at: at }).where('id', '=', runId).where('system_id', '=', systemId).where('state', '=', 'delivered').execute();
    },

    async appendChunk(systemId, runId, seq, stream, data, at) {
      const owner = await db.selectFrom('runs').select(['state', 'job_id']).where('id', '=', runId).where('system_id', '=', systemId).executeTakeFirst();
      if (!owner || !NON_TERMINAL.includes(owner.state as RunState)) return;
      await db.insertInto('run_chunks').values({ run_id: runId, job_id: owner.job_id, seq, stream, data, created_at: at }).onConflict((oc) => oc.columns(['run_id', 'seq']).doNothing()).execute();
    },

    async completeRun(systemId, runId, c, storedAt) {
      return db.transaction().execute(async (tx) => {
        const row = await tx
          .selectFrom('runs')
          .innerJoin('jobs', 'jobs.id', 'runs.job_id')
          .select(['runs.state', 'runs.job_id', 'jobs.max_concurrency'])
          .where('runs.id', '=', runId)
          .where('runs.system_id', '=', systemId)
          .executeTakeFirst();
        if (!row) return { outcome: 'unknown' as const };
        // A late result is the truth: it replaces `lost`, and nothing else that has ended.
        if ((TERMINAL_STATES as readonly string[]).includes(row.state) && row.state !== 'lost') return { outcome: 'duplicate' as const };
        await tx
          .updateTable('runs')
          .set({
            state: c.state, exit_code: c.exitCode, signal: c.signal, reason: c.reason, stdout: c.stdout, stderr: c.stderr,
            stdout_truncated: c.stdoutTruncated ? 1 : 0, stderr_truncated: c.stderrTruncated ? 1 : 0,
            started_at: c.startedAt, finished_at: c.finishedAt, cancel_requested: 0, ended_at: storedAt,
          })
          .where('id', '=', runId)
          .execute();
        const freed = IN_FLIGHT.includes(row.state as RunState);
        await adjustJob(tx, row.job_id, freed ? -1 : 0, (isError(c.state) ? 1 : 0) - (isError(row.state) ? 1 : 0));
        await stopIfTooManyErrors(tx, row.job_id, storedAt);
        await finishJobs(tx, [row.job_id], storedAt);
        const waitingSystems = freed && row.max_concurrency !== null ? await waiting(tx, row.job_id) : [];
        return { outcome: 'stored' as const, effect: { jobId: row.job_id, waitingSystems } };
      });
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
          .returning('job_id')
          .execute();
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
