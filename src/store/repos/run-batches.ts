import { CompiledQuery, sql, type Kysely, type Transaction } from 'kysely';
import {
  ERROR_STATES,
  IN_FLIGHT_STATES,
  jobStatus,
  NON_TERMINAL_STATES,
  resultReason,
  TERMINAL_STATES,
  type Delivery,
  type JobEffect,
  type JobTransition,
  type ResultToStore,
  type RunStart,
  type RunState,
  type RunTransition,
  type StoreOutcome,
  type Transition,
  type TransitionReason,
} from '../../core/jobs/index.js';
import { chunks } from '../chunks.js';
import type { DialectCapabilities } from '../dialect.js';
import type { Schema } from '../schema.js';
import { fromJson } from './json.js';
import { keepStreamedOutput } from './run-output.js';

/**
 * The two hot paths of a fan-out, one transaction per batch instead of one per
 * run: claiming the pending runs of many systems, and storing many results
 * (group commit). Measured on the 2-core bench machine, SQLite with
 * synchronous=FULL: one transaction per result cost ~1.4 ms (an fsync), so
 * 10,000 results took ~14 s of commits alone; in batches of 1,000, claiming
 * 10,000 runs took ~230 ms and storing their results ~260 ms (PostgreSQL on
 * the same machine: ~500 ms and ~650 ms). See docs/benchmarks.md.
 */
type Db = Kysely<Schema> | Transaction<Schema>;

/** How many waiting systems one freed slot wakes at most (each wake re-reads the database). */
const WAKE_BATCH = 100;
/** 11 parameters per result row: 500 rows stay far inside both limits. */
const ROWS_PER_UPDATE = 500;

function isError(state: string): boolean {
  return (ERROR_STATES as readonly string[]).includes(state);
}

function isTerminal(state: string): boolean {
  return (TERMINAL_STATES as readonly string[]).includes(state);
}

/** Systems still waiting on a job whose slot just freed. */
export async function waiting(tx: Db, jobId: string): Promise<string[]> {
  const rows = await tx.selectFrom('runs').select('system_id').where('job_id', '=', jobId).where('state', '=', 'pending').limit(WAKE_BATCH).execute();
  return rows.map((r) => r.system_id);
}

/** The columns a run transition is built from, as UPDATE … RETURNING gives them. */
export const TRANSITION_COLUMNS = ['id', 'job_id', 'system_id', 'organization_id'] as const;

/** Run transitions from the rows an UPDATE … RETURNING gave back (all moved from `from` to `to`). */
export function runTransitions(
  rows: ReadonlyArray<{ id: string; job_id: string; system_id: string; organization_id: string }>,
  from: RunState | null,
  to: RunState,
  reason: TransitionReason,
  at: string,
): RunTransition[] {
  return rows.map((r) => ({ kind: 'run', runId: r.id, jobId: r.job_id, systemId: r.system_id, organizationId: r.organization_id, from, to, reason, at }));
}

/**
 * Locks these job rows (PostgreSQL; SQLite has one writer), in id order so
 * no two transactions deadlock. A transaction that ends runs takes this lock
 * before it decides whether their job is finished: the decisions of two
 * replicas ending a job's last runs then happen one after the other, and the
 * second, reading afresh after the first committed, sees every run ended.
 */
async function lockJobs(tx: Db, capabilities: DialectCapabilities, jobIds: string[]): Promise<void> {
  if (!capabilities.supportsSkipLocked || jobIds.length === 0) return;
  for (const part of chunks(jobIds)) await tx.selectFrom('jobs').select('id').where('id', 'in', part).orderBy('id').forUpdate().execute();
}

/**
 * Stamps finished_at on jobs whose runs have all ended, deciding on the locked
 * job row (see lockJobs); returns each finished job's transition, its status
 * as the reason.
 */
export async function finishJobs(tx: Db, capabilities: DialectCapabilities, jobIds: Iterable<string>, at: string): Promise<JobTransition[]> {
  const ids = [...new Set(jobIds)].sort();
  await lockJobs(tx, capabilities, ids);
  const out: JobTransition[] = [];
  for (const jobId of ids) {
    // A statement of its own after the lock: under READ COMMITTED it reads what committed before the lock was granted.
    const row = await tx
      .updateTable('jobs')
      .set({ finished_at: at })
      .where('id', '=', jobId)
      .where('finished_at', 'is', null)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('runs').select('runs.id').where('runs.job_id', '=', jobId).where('runs.state', 'in', NON_TERMINAL_STATES))))
      .returning(['organization_id', 'stopped_reason', 'total'])
      .executeTakeFirst();
    if (!row) continue;
    const counts = await tx
      .selectFrom('runs')
      .select(['state', tx.fn.countAll<string | number>().as('n')])
      .where('job_id', '=', jobId)
      .groupBy('state')
      .execute();
    const status = jobStatus(Object.fromEntries(counts.map((c) => [c.state, Number(c.n)])), Number(row.total), row.stopped_reason, true);
    out.push({
      kind: 'job',
      jobId,
      organizationId: row.organization_id,
      from: row.stopped_reason === null ? 'running' : 'stopped',
      to: 'finished',
      reason: status as TransitionReason,
      at,
    });
  }
  return out;
}

/** Past max_errors: stop delivery and end the job's waiting runs `cancelled`, with the reason. */
export async function stopIfTooManyErrors(tx: Db, jobId: string, at: string): Promise<Transition[]> {
  const job = await tx.selectFrom('jobs').select(['errors', 'max_errors', 'stopped_reason']).where('id', '=', jobId).executeTakeFirst();
  if (!job || job.max_errors === null || job.stopped_reason !== null || Number(job.errors) <= Number(job.max_errors)) return [];
  const reason = `not started: ${job.errors} runs failed, more than max_errors (${job.max_errors})`;
  const stopped = await tx
    .updateTable('jobs')
    .set({ stopped_reason: reason })
    .where('id', '=', jobId)
    .where('stopped_reason', 'is', null)
    .returning(['organization_id', 'finished_at'])
    .executeTakeFirst();
  const cancelled = await tx
    .updateTable('runs')
    .set({ state: 'cancelled', reason, finished_at: at, ended_at: at })
    .where('job_id', '=', jobId)
    .where('state', '=', 'pending')
    .returning(TRANSITION_COLUMNS)
    .execute();
  const out: Transition[] = [];
  if (stopped && stopped.finished_at === null)
    out.push({ kind: 'job', jobId, organizationId: stopped.organization_id, from: 'running', to: 'stopped', reason: 'max_errors', at });
  return [...out, ...runTransitions(cancelled, 'pending', 'cancelled', 'max_errors', at)];
}

/**
 * The frozen scripts of claimed runs, as deliveries: each run's environment is
 * its job's with its own variables on top. Runs read with their `env` column
 * bring it; for the others it is read here.
 */
export async function deliveries(tx: Db, runs: Array<{ id: string; job_id: string; env?: string | null }>): Promise<Delivery[]> {
  if (runs.length === 0) return [];
  const jobs = await tx
    .selectFrom('jobs')
    .select(['id', 'shell', 'content', 'env', 'timeout_s', 'run_as'])
    .where('id', 'in', [...new Set(runs.map((r) => r.job_id))])
    .execute();
  const byId = new Map(jobs.map((j) => [j.id, { ...j, env: fromJson<Record<string, string>>(j.env, {}) }]));
  const own = new Map<string, Record<string, string>>();
  for (const r of runs) if (r.env) own.set(r.id, fromJson<Record<string, string>>(r.env, {}));
  const unread = runs.filter((r) => r.env === undefined);
  if (unread.length > 0)
    for (const [id, env] of await runEnvs(
      tx,
      unread.map((r) => r.id),
    ))
      own.set(id, env);
  return runs.flatMap((r) => {
    const j = byId.get(r.job_id);
    if (!j) return [];
    const env = own.has(r.id) ? { ...j.env, ...own.get(r.id) } : j.env;
    return [{ runId: r.id, jobId: r.job_id, shell: j.shell, content: j.content, env, timeoutS: Number(j.timeout_s), runAs: j.run_as }];
  });
}

/** Runs' own variables, for those that have any. */
async function runEnvs(tx: Db, runIds: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (const ids of chunks(runIds)) {
    const rows = await tx.selectFrom('runs').select(['id', 'env']).where('id', 'in', ids).where('env', 'is not', null).execute();
    for (const r of rows) out.set(r.id, fromJson<Record<string, string>>(r.env, {}));
  }
  return out;
}

interface Candidate {
  id: string;
  created_at: string;
  job_id: string;
  system_id: string;
  organization_id: string;
  deliver_deadline: string | null;
  timeout_s: number;
  max_concurrency: number | null;
  /** The run's own variables (JSON), read with it so deliveries need no second read. */
  env: string | null;
}

async function candidates(tx: Db, capabilities: DialectCapabilities, systemIds: string[], at: string): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const part of chunks(systemIds)) {
    let q = tx
      .selectFrom('runs')
      .innerJoin('jobs', 'jobs.id', 'runs.job_id')
      .select([
        'runs.id',
        'runs.created_at',
        'runs.job_id',
        'runs.system_id',
        'runs.organization_id',
        'runs.deliver_deadline',
        'jobs.timeout_s',
        'jobs.max_concurrency',
        'runs.env',
      ])
      .where('runs.system_id', 'in', part)
      .where('runs.state', '=', 'pending')
      .where('runs.cancel_requested', '=', 0)
      .where('jobs.stopped_reason', 'is', null);
    // Rows another replica is claiming are skipped, never waited for.
    if (capabilities.supportsSkipLocked) q = q.forUpdate('runs').skipLocked();
    out.push(...(await q.execute()));
  }
  // Oldest job first, as one per-system claim did (created_at, then job id).
  const key = (c: Candidate) => `${c.created_at} ${c.job_id}`;
  return out.filter((c) => c.deliver_deadline === null || c.deliver_deadline >= at).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * Slots for jobs with max_concurrency: the job rows are locked (PostgreSQL;
 * SQLite has one writer) in id order, so no two claimers deadlock and none can
 * exceed the limit. Returns how many runs each limited job may start now.
 */
async function grantSlots(tx: Db, capabilities: DialectCapabilities, wanted: Map<string, number>): Promise<Map<string, number>> {
  const granted = new Map<string, number>();
  if (wanted.size === 0) return granted;
  let q = tx
    .selectFrom('jobs')
    .select(['id', 'in_flight', 'max_concurrency', 'stopped_reason'])
    .where('id', 'in', [...wanted.keys()])
    .orderBy('id');
  if (capabilities.supportsSkipLocked) q = q.forUpdate();
  for (const job of await q.execute()) {
    const free = job.stopped_reason === null ? Math.max(0, Number(job.max_concurrency) - Number(job.in_flight)) : 0;
    const n = Math.min(free, wanted.get(job.id)!);
    if (n === 0) continue;
    await tx
      .updateTable('jobs')
      .set((eb) => ({ in_flight: eb('in_flight', '+', n) }))
      .where('id', '=', job.id)
      .execute();
    granted.set(job.id, n);
  }
  return granted;
}

/**
 * Claims the deliverable pending runs of many systems in one transaction: each
 * run of a limited job takes a concurrency slot, and each is marked delivered
 * once (guarded on state, rows locked with SKIP LOCKED on PostgreSQL).
 */
export async function claimBatch(
  db: Kysely<Schema>,
  capabilities: DialectCapabilities,
  systemIds: string[],
  at: string,
  lostGraceS: number,
): Promise<{ deliveries: Map<string, Delivery[]>; transitions: Transition[] }> {
  if (systemIds.length === 0) return { deliveries: new Map(), transitions: [] };
  const claimed = await db.transaction().execute(async (tx) => {
    const found = await candidates(tx, capabilities, systemIds, at);
    const wanted = new Map<string, number>();
    for (const c of found) if (c.max_concurrency !== null) wanted.set(c.job_id, (wanted.get(c.job_id) ?? 0) + 1);
    const slots = await grantSlots(tx, capabilities, wanted);
    const byJob = new Map<string, Candidate[]>();
    for (const c of found) {
      if (c.max_concurrency !== null) {
        const left = slots.get(c.job_id) ?? 0;
        if (left === 0) continue;
        slots.set(c.job_id, left - 1);
      }
      byJob.set(c.job_id, [...(byJob.get(c.job_id) ?? []), c]);
    }
    const won: Candidate[] = [];
    for (const [jobId, runs] of byJob) {
      const before = won.length;
      const lostAfter = new Date(Date.parse(at) + (Number(runs[0]!.timeout_s) + lostGraceS) * 1000).toISOString();
      const byId = new Map(runs.map((r) => [r.id, r]));
      for (const part of chunks(runs.map((r) => r.id))) {
        const rows = await tx
          .updateTable('runs')
          .set({ state: 'delivered', delivered_at: at, lost_after: lostAfter })
          .where('id', 'in', part)
          // The guard must not pick the index: SQLite's planner, without statistics, reads
          // runs_state_deadline for `state = ?`, every pending run of every job for each 500 ids.
          .where(sql`coalesce(state, '')`, '=', 'pending')
          .returning('id')
          .execute();
        for (const r of rows) won.push(byId.get(r.id)!);
      }
      const limited = runs[0]!.max_concurrency !== null;
      const lostRace = runs.length - (won.length - before);
      if (limited && lostRace > 0)
        await tx
          .updateTable('jobs')
          .set((eb) => ({ in_flight: eb('in_flight', '-', lostRace) }))
          .where('id', '=', jobId)
          .execute();
    }
    const systemOf = new Map(won.map((w) => [w.id, w.system_id]));
    return { won, list: (await deliveries(tx, won)).map((d) => ({ d, systemId: systemOf.get(d.runId)! })) };
  });
  const out = new Map<string, Delivery[]>();
  for (const { d, systemId } of claimed.list) {
    const list = out.get(systemId);
    if (list) list.push(d);
    else out.set(systemId, [d]);
  }
  return { deliveries: out, transitions: runTransitions(claimed.won, 'pending', 'delivered', 'delivered', at) };
}

interface Current {
  id: string;
  state: string;
  job_id: string;
  system_id: string;
  organization_id: string;
  max_concurrency: number | null;
  max_errors: number | null;
}

async function currentRows(tx: Db, capabilities: DialectCapabilities, runIds: string[]): Promise<Map<string, Current>> {
  const out = new Map<string, Current>();
  for (const part of chunks([...new Set(runIds)].sort())) {
    let q = tx
      .selectFrom('runs')
      .innerJoin('jobs', 'jobs.id', 'runs.job_id')
      .select(['runs.id', 'runs.state', 'runs.job_id', 'runs.system_id', 'runs.organization_id', 'jobs.max_concurrency', 'jobs.max_errors'])
      .where('runs.id', 'in', part)
      .orderBy('runs.id');
    // Locked (in id order) so a sweep cannot end one of these runs between this read and the update.
    if (capabilities.supportsSkipLocked) q = q.forUpdate('runs');
    for (const r of await q.execute()) out.set(r.id, r);
  }
  return out;
}

const RESULT_COLUMNS = 11;

/** The text of an UPDATE … FROM (VALUES …) for `rows` results, in the dialect of `db` (placeholders differ). */
function resultUpdateText(db: Db, rows: number): string {
  const values = Array.from({ length: rows }, () => sql`(${sql.join(Array.from({ length: RESULT_COLUMNS }, () => null))})`);
  return sql`
    with v(id, state, exit_code, signal, reason, stdout, stderr, stdout_truncated, stderr_truncated, started_at, finished_at) as (values ${sql.join(values)})
    update runs set state = v.state, exit_code = cast(v.exit_code as integer), signal = v.signal, reason = v.reason, stdout = v.stdout, stderr = v.stderr,
      stdout_truncated = cast(v.stdout_truncated as integer), stderr_truncated = cast(v.stderr_truncated as integer), started_at = v.started_at,
      finished_at = v.finished_at, cancel_requested = 0, ended_at = ${null}
    from v where runs.id = v.id`.compile(db).sql;
}

/**
 * Statement texts by row count, one cache per dialect (its capabilities, so
 * placeholders never mix): building 5,500 parameters through the query
 * builder each time cost ~9 ms per 1,000 results.
 */
const updateTexts = new WeakMap<DialectCapabilities, Map<number, string>>();

/** One UPDATE … FROM (VALUES …) per 500 results: both SQLite (≥ 3.33) and PostgreSQL accept it. */
async function writeResults(tx: Db, capabilities: DialectCapabilities, items: ResultToStore[], storedAt: string): Promise<void> {
  let texts = updateTexts.get(capabilities);
  if (!texts) updateTexts.set(capabilities, (texts = new Map()));
  for (const part of chunks(items, ROWS_PER_UPDATE)) {
    let text = texts.get(part.length);
    if (!text) {
      // One text per batch size seen; bounded, as sizes vary with load.
      if (texts.size >= 64) texts.clear();
      texts.set(part.length, (text = resultUpdateText(tx, part.length)));
    }
    const params: unknown[] = [];
    for (const { runId, completion: c } of part) {
      params.push(
        runId,
        c.state,
        c.exitCode,
        c.signal,
        c.reason,
        c.stdout,
        c.stderr,
        c.stdoutTruncated ? 1 : 0,
        c.stderrTruncated ? 1 : 0,
        c.startedAt,
        c.finishedAt,
      );
    }
    params.push(storedAt);
    await tx.executeQuery(CompiledQuery.raw(text, params));
  }
}

/** Marks many runs running in one transaction: only runs of the reporting system, only from `delivered`. */
export async function startBatch(db: Kysely<Schema>, items: RunStart[]): Promise<Transition[]> {
  if (items.length === 0) return [];
  return db.transaction().execute(async (tx) => {
    const out: Transition[] = [];
    for (const part of chunks(items, ROWS_PER_UPDATE)) {
      const rows = part.map((i) => sql`(${i.runId}, ${i.systemId}, ${i.at})`);
      const started = await sql<{ id: string; job_id: string; system_id: string; organization_id: string; started_at: string }>`
        with v(id, system_id, started_at) as (values ${sql.join(rows)})
        update runs set state = 'running', started_at = v.started_at
        from v where runs.id = v.id and runs.system_id = v.system_id and runs.state = 'delivered'
        returning runs.id, runs.job_id, runs.system_id, runs.organization_id, runs.started_at`.execute(tx);
      for (const r of started.rows) out.push(...runTransitions([r], 'delivered', 'running', 'started', r.started_at));
    }
    return out;
  });
}

/**
 * Stores many agents' results in one transaction (group commit). A result is
 * stored unless its run already ended (a late result replaces `lost`, nothing
 * else); each job's counters move once per batch, not once per run. A run's
 * `from` is its state in the row this transaction locked (PostgreSQL) or read
 * as the single writer (SQLite), so it is the state the write replaced.
 */
export async function completeBatch(
  db: Kysely<Schema>,
  capabilities: DialectCapabilities,
  items: ResultToStore[],
  storedAt: string,
): Promise<{ outcomes: StoreOutcome[]; effects: JobEffect[]; transitions: Transition[] }> {
  return db.transaction().execute(async (tx) => {
    const current = await currentRows(
      tx,
      capabilities,
      items.map((i) => i.runId),
    );
    const seen = new Set<string>();
    const toWrite: ResultToStore[] = [];
    const transitions: Transition[] = [];
    const jobs = new Map<string, { freed: number; errors: number; row: Current }>();
    const outcomes = items.map((item): StoreOutcome => {
      const row = current.get(item.runId);
      if (!row || row.system_id !== item.systemId) return 'unknown';
      if (seen.has(item.runId) || (isTerminal(row.state) && row.state !== 'lost')) return 'duplicate';
      seen.add(item.runId);
      toWrite.push(item);
      const to = item.completion.state;
      transitions.push(...runTransitions([row], row.state as RunState, to, resultReason(to), storedAt));
      const j = jobs.get(row.job_id) ?? { freed: 0, errors: 0, row };
      if ((IN_FLIGHT_STATES as readonly string[]).includes(row.state) && row.max_concurrency !== null) j.freed++;
      j.errors += (isError(item.completion.state) ? 1 : 0) - (isError(row.state) ? 1 : 0);
      jobs.set(row.job_id, j);
      return 'stored';
    });
    await writeResults(tx, capabilities, toWrite, storedAt);
    const lostEmpty = toWrite.filter((i) => i.completion.state === 'lost' && i.completion.stdout === '' && i.completion.stderr === '');
    if (lostEmpty.length > 0)
      await keepStreamedOutput(
        tx,
        lostEmpty.map((i) => i.runId),
      );
    const effects: JobEffect[] = [];
    for (const jobId of [...jobs.keys()].sort()) {
      const { freed, errors, row } = jobs.get(jobId)!;
      if (freed !== 0 || errors !== 0) {
        await tx
          .updateTable('jobs')
          .set((eb) => ({ in_flight: eb('in_flight', '-', freed), errors: eb('errors', '+', errors) }))
          .where('id', '=', jobId)
          .execute();
      }
      if (row.max_errors !== null && errors > 0) transitions.push(...(await stopIfTooManyErrors(tx, jobId, storedAt)));
      effects.push({ jobId, waitingSystems: freed > 0 ? await waiting(tx, jobId) : [] });
    }
    transitions.push(...(await finishJobs(tx, capabilities, jobs.keys(), storedAt)));
    return { outcomes, effects, transitions };
  });
}
