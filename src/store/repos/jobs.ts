import { sql, type Kysely } from 'kysely';
import type { JobStore, Transition } from '../../core/jobs/index.js';
import type { DialectCapabilities } from '../dialect.js';
import type { Schema } from '../schema.js';
import { jobFromRow, RUN_COLUMNS, runFromRow } from './job-rows.js';
import { fromJson, toJson } from './json.js';
import { eventReader } from './events.js';
import { runTransitions } from './run-batches.js';
import { runEngine } from './runs.js';

/** SQLite allows 32766 bound parameters; 9 columns × 1000 rows stays well inside, and PostgreSQL's 65535 too. */
const INSERT_BATCH = 1000;

/** Jobs and runs on Kysely: reads and launch here, the run engine in runs.ts. */
export function jobStore(db: Kysely<Schema>, capabilities: DialectCapabilities): JobStore {
  /** An organization's runs with their system's hostname, as run records read them. */
  const runsOf = (organizationId: string) =>
    db
      .selectFrom('runs')
      .leftJoin('systems', 'systems.id', 'runs.system_id')
      .select([...RUN_COLUMNS, 'systems.hostname'])
      .where('runs.organization_id', '=', organizationId);

  return {
    ...runEngine(db, capabilities),
    ...eventReader(db),

    async insertJob(j, runs) {
      await db.transaction().execute(async (tx) => {
        await tx
          .insertInto('jobs')
          .values({
            id: j.id,
            organization_id: j.organizationId,
            source: j.source,
            shell: j.shell,
            content: j.content,
            env: toJson(j.env),
            timeout_s: j.timeoutS,
            ttl_s: j.ttlS,
            run_as: j.runAs,
            selector: j.selector,
            max_concurrency: j.maxConcurrency,
            max_errors: j.maxErrors,
            total: j.total,
            in_flight: 0,
            errors: 0,
            stopped_reason: null,
            retry_of: j.retryOf,
            script_id: j.scriptId,
            created_by: j.createdBy,
            created_at: j.createdAt,
            finished_at: j.finishedAt,
          })
          .execute();
        for (let i = 0; i < runs.length; i += INSERT_BATCH) {
          const values = runs.slice(i, i + INSERT_BATCH).map((r) => ({
            id: r.id,
            job_id: j.id,
            organization_id: j.organizationId,
            system_id: r.systemId,
            state: 'pending',
            created_at: j.createdAt,
            deliver_deadline: r.deliverDeadline,
            cancel_requested: 0,
            env: r.env ? toJson(r.env) : null,
          }));
          await tx.insertInto('runs').values(values).execute();
        }
      });
      // What the transaction wrote, as given: nothing else can have touched rows it created.
      const launched: Transition = {
        kind: 'job',
        jobId: j.id,
        organizationId: j.organizationId,
        from: null,
        to: 'running',
        reason: 'launched',
        at: j.createdAt,
      };
      const rows = runs.map((r) => ({ id: r.id, job_id: j.id, system_id: r.systemId, organization_id: j.organizationId }));
      return [launched, ...runTransitions(rows, null, 'pending', 'launched', j.createdAt)];
    },

    async getJob(organizationId, id) {
      const row = await db.selectFrom('jobs').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return row && jobFromRow(row);
    },

    async listJobs(organizationId, limit, before) {
      let q = db.selectFrom('jobs').selectAll().where('organization_id', '=', organizationId);
      if (before) q = q.where('created_at', '<', before);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(jobFromRow);
    },

    async countRuns(jobId) {
      const rows = await db
        .selectFrom('runs')
        .select(['state', db.fn.countAll<string | number>().as('n')])
        .where('job_id', '=', jobId)
        .groupBy('state')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    },

    async listRunsOfSystem(organizationId, systemId, limit) {
      const rows = await runsOf(organizationId)
        .where('runs.system_id', '=', systemId)
        .orderBy('runs.created_at', 'desc')
        .orderBy('runs.id', 'desc')
        .limit(limit)
        .execute();
      return rows.map(runFromRow);
    },
    async listRuns(organizationId, jobId) {
      const rows = await runsOf(organizationId).where('runs.job_id', '=', jobId).orderBy('systems.hostname').orderBy('runs.id').execute();
      return rows.map(runFromRow);
    },

    async listRunsPage(organizationId, jobId, page) {
      // A run whose system was deleted has no hostname: it sorts first, as ''.
      const hostname = sql<string>`coalesce(systems.hostname, '')`;
      let q = runsOf(organizationId).where('runs.job_id', '=', jobId);
      if (page.state) q = q.where('runs.state', '=', page.state);
      const counted = await q.clearSelect().select(db.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
      const after = page.after;
      if (after) q = q.where((eb) => eb.or([eb(hostname, '>', after.hostname), eb.and([eb(hostname, '=', after.hostname), eb('runs.id', '>', after.id)])]));
      const rows = await q.orderBy(hostname).orderBy('runs.id').limit(page.limit).execute();
      return { runs: rows.map(runFromRow), total: Number(counted.n) };
    },

    async getRun(organizationId, id) {
      const row = await db
        .selectFrom('runs')
        .leftJoin('systems', 'systems.id', 'runs.system_id')
        .select([...RUN_COLUMNS, 'runs.stdout', 'runs.stderr', 'systems.hostname'])
        .where('runs.organization_id', '=', organizationId)
        .where('runs.id', '=', id)
        .executeTakeFirst();
      return row && { ...runFromRow(row), stdout: row.stdout, stderr: row.stderr };
    },

    async systemsInStates(jobId, states) {
      const rows = await db
        .selectFrom('runs')
        .select('system_id')
        .where('job_id', '=', jobId)
        .where('state', 'in', [...states])
        .orderBy('system_id')
        .execute();
      return rows.map((r) => r.system_id);
    },

    async runEnvs(jobId) {
      const rows = await db.selectFrom('runs').select(['system_id', 'env']).where('job_id', '=', jobId).where('env', 'is not', null).execute();
      return Object.fromEntries(rows.map((r) => [r.system_id, fromJson<Record<string, string>>(r.env, {})]));
    },
  };
}
