import { requireRole, type Actor } from '../access/index.js';
import type { AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { invalid, notFound } from '../errors.js';
import { isId, newId } from '../ids.js';
import type { SystemStore } from '../systems/index.js';
import type { RunNotifier } from './notifier.js';
import { RETRYABLE_STATES, RUN_STATES, TERMINAL_STATES, type RunState } from './run-states.js';
import type { JobRecord, JobSource, JobStore, RunOutput, RunRecord } from './store.js';
import { jobStatus, type JobStatus } from './status.js';
import { decodeRunCursor, encodeRunCursor } from './run-cursor.js';
import { resolveTargets } from './targets.js';
import { TransitionSink } from './transitions.js';
import { checkContent, checkEnv, checkRate, checkRunAs, checkRunEnv, checkShell, checkTimeout, checkTtl } from './validate.js';

export * from './run-states.js';
export * from './store.js';
export type { RunNotifier } from './notifier.js';
export { capTail } from './output.js';
export { RunLifecycle } from './run-lifecycle.js';
export { JobSweeper } from './sweeper.js';
export { StreamWakeup } from './stream-wakeup.js';
export { JobEvents, type StreamEvent } from './events.js';
export { jobStatus, type JobStatus } from './status.js';
export { resolveTargets, type Targets } from './targets.js';
export { checkContent, checkEnv, checkRunAs, checkShell, checkTimeout, checkTtl } from './validate.js';
export * from './transitions.js';

export interface JobLimits {
  scriptBytes: number;
  outputBytes: number;
}

export interface LaunchInput {
  content?: unknown;
  shell?: unknown;
  targets: unknown;
  env?: unknown;
  /** Per-system variables, keyed by system id, laid over `env` for that system's run. */
  run_env?: unknown;
  timeout_s?: unknown;
  ttl_s?: unknown;
  run_as?: unknown;
  max_concurrency?: unknown;
  max_errors?: unknown;
}

/** A job with its summary: counts per run state and an overall status. */
export interface JobView extends JobRecord {
  counts: Record<RunState, number>;
  done: boolean;
  status: JobStatus;
}

/** Launching, reading, cancelling and retrying jobs. */
export class JobService {
  constructor(
    private readonly jobs: JobStore,
    private readonly systems: SystemStore,
    private readonly audit: AuditSink,
    private readonly notifier: RunNotifier,
    private readonly clock: Clock,
    private readonly limits: JobLimits,
    private readonly transitions: TransitionSink = new TransitionSink(),
  ) {}

  /**
   * Freezes content, environment and targets; writes the job and one run per
   * system, each with its own variables from `run_env`; wakes delivery.
   */
  async launch(
    actor: Actor,
    input: LaunchInput,
    source: JobSource = 'api',
    links: { retryOf?: string; scriptId?: string } = {},
  ): Promise<{ job: JobView; runs: RunRecord[] }> {
    requireRole(actor, 'operator');
    const content = checkContent(input.content, this.limits.scriptBytes);
    const shell = checkShell(input.shell);
    const timeoutS = checkTimeout(input.timeout_s);
    const ttlS = checkTtl(input.ttl_s);
    const env = checkEnv(input.env);
    const runAs = checkRunAs(input.run_as);
    const { systemIds, selector } = await resolveTargets(this.systems, actor.organizationId, input.targets);
    const runEnv = checkRunEnv(input.run_env, systemIds, env);
    const now = this.clock.now();
    const job: JobRecord = {
      id: newId(),
      organizationId: actor.organizationId,
      source,
      shell,
      content,
      env,
      timeoutS,
      ttlS,
      runAs,
      selector,
      maxConcurrency: checkRate(input.max_concurrency, 'max_concurrency', systemIds.length),
      maxErrors: checkRate(input.max_errors, 'max_errors', systemIds.length),
      total: systemIds.length,
      stoppedReason: null,
      retryOf: links.retryOf ?? null,
      scriptId: links.scriptId ?? null,
      createdBy: actor.label,
      createdAt: now.toISOString(),
      finishedAt: null,
    };
    const deliverDeadline = new Date(now.getTime() + ttlS * 1000).toISOString();
    this.transitions.publish(
      await this.jobs.insertJob(
        job,
        systemIds.map((systemId) => ({ id: newId(), systemId, deliverDeadline, ...(runEnv.has(systemId) ? { env: runEnv.get(systemId)! } : {}) })),
      ),
    );
    await this.audit.record(
      {
        organizationId: actor.organizationId,
        actor: actor.label,
        action: 'job.launch',
        targetType: 'job',
        targetId: job.id,
        details: { systems: systemIds.length, shell, source, selector },
      },
      now,
    );
    this.notifier.runsCreated(systemIds);
    return { job: await this.view(job), runs: await this.jobs.listRuns(actor.organizationId, job.id) };
  }

  async get(actor: Actor, id: string): Promise<JobView> {
    requireRole(actor, 'viewer');
    const job = isId(id) ? await this.jobs.getJob(actor.organizationId, id) : undefined;
    if (!job) throw notFound('job', id);
    return this.view(job);
  }

  /** Newest first; `before` is a created_at cursor. */
  async list(actor: Actor, options: { limit?: number; before?: string } = {}): Promise<JobView[]> {
    requireRole(actor, 'viewer');
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
    const jobs = await this.jobs.listJobs(actor.organizationId, limit, options.before);
    return Promise.all(jobs.map((j) => this.view(j)));
  }

  async runs(actor: Actor, jobId: string): Promise<RunRecord[]> {
    await this.get(actor, jobId);
    return this.jobs.listRuns(actor.organizationId, jobId);
  }

  /**
   * One page of a job's runs, by hostname (1–1000 of them), only those in
   * `state` when given, with how many match in all; `cursor` is the previous
   * page's `nextCursor`, null after the last page.
   */
  async runsPage(
    actor: Actor,
    jobId: string,
    query: { limit: number; cursor?: string | undefined; state?: string | undefined },
  ): Promise<{ runs: RunRecord[]; total: number; nextCursor: string | null }> {
    await this.get(actor, jobId);
    const { limit, cursor, state } = query;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalid('limit', 'must be an integer from 1 to 1000');
    if (state !== undefined && !(RUN_STATES as readonly string[]).includes(state)) throw invalid('state', `must be one of ${RUN_STATES.join(', ')}`);
    const after = cursor === undefined ? undefined : decodeRunCursor(cursor);
    const { runs, total } = await this.jobs.listRunsPage(actor.organizationId, jobId, { limit, after, state: state as RunState | undefined });
    const last = runs.length === limit ? runs[runs.length - 1] : undefined;
    return { runs, total, nextCursor: last ? encodeRunCursor(last) : null };
  }

  /** A system's newest runs (1–200, of every job), newest first; NOT_FOUND for a system outside the organization. */
  async runsOfSystem(actor: Actor, systemId: string, limit = 50): Promise<RunRecord[]> {
    requireRole(actor, 'viewer');
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalid('limit', 'must be an integer from 1 to 200');
    if (!isId(systemId) || !(await this.systems.getSystem(actor.organizationId, systemId))) throw notFound('system', systemId);
    return this.jobs.listRunsOfSystem(actor.organizationId, systemId, limit);
  }

  async run(actor: Actor, id: string): Promise<RunRecord & RunOutput> {
    requireRole(actor, 'viewer');
    const run = isId(id) ? await this.jobs.getRun(actor.organizationId, id) : undefined;
    if (!run) throw notFound('run', id);
    return run;
  }

  /** Cancels a job: waiting runs end `cancelled` now, running ones are killed on their machines. */
  async cancel(actor: Actor, target: { jobId: string } | { runId: string }): Promise<void> {
    requireRole(actor, 'operator');
    const id = 'jobId' in target ? target.jobId : target.runId;
    const what = 'jobId' in target ? 'job' : 'run';
    const now = this.clock.now();
    const result = isId(id)
      ? await this.jobs.cancel(actor.organizationId, target, `cancelled by ${actor.label}`, now.toISOString())
      : { found: false, inFlight: [], transitions: [] };
    if (!result.found) throw notFound(what, id);
    this.transitions.publish(result.transitions);
    await this.audit.record({ organizationId: actor.organizationId, actor: actor.label, action: `${what}.cancel`, targetType: what, targetId: id }, now);
    if (result.inFlight.length > 0) this.notifier.cancelRuns(result.inFlight);
  }

  /** Relaunches a job's failed, timed-out, lost and undeliverable runs as a new job; each keeps its own variables. */
  async retry(actor: Actor, jobId: string): Promise<{ job: JobView; runs: RunRecord[] }> {
    const job = await this.get(actor, jobId);
    const systemIds = await this.jobs.systemsInStates(job.id, RETRYABLE_STATES);
    if (systemIds.length === 0) throw invalid('job', `job ${job.id} has no failed, timed-out, lost or undeliverable runs to retry`);
    const own = await this.jobs.runEnvs(job.id);
    const runEnv = Object.fromEntries(systemIds.filter((id) => own[id] !== undefined).map((id) => [id, own[id]!]));
    return this.launch(
      actor,
      {
        content: job.content,
        shell: job.shell,
        env: job.env,
        run_env: runEnv,
        timeout_s: job.timeoutS,
        ttl_s: job.ttlS,
        run_as: job.runAs ?? undefined,
        targets: { system_ids: systemIds },
      },
      job.source,
      { retryOf: job.id, ...(job.scriptId ? { scriptId: job.scriptId } : {}) },
    );
  }

  private async view(job: JobRecord): Promise<JobView> {
    const partial = await this.jobs.countRuns(job.id);
    const counts = Object.fromEntries(RUN_STATES.map((s) => [s, partial[s] ?? 0])) as Record<RunState, number>;
    const finished = TERMINAL_STATES.reduce((n, s) => n + counts[s], 0);
    const done = finished === job.total;
    const status: JobStatus = jobStatus(counts, job.total, job.stoppedReason, done);
    return { ...job, counts, done, status };
  }
}
