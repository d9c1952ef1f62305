import type { RunState } from './run-states.js';
import type { Transition } from './transitions.js';

export type JobSource = 'api' | 'cli' | 'trigger' | 'schedule' | 'enroll';

export interface JobRecord {
  id: string;
  organizationId: string;
  source: JobSource;
  shell: string;
  content: string;
  env: Record<string, string>;
  timeoutS: number;
  /** How long a run may wait for an offline system before it ends `undeliverable`. */
  ttlS: number;
  runAs: string | null;
  selector: string | null;
  /** Absolute limits, resolved from numbers or percentages at launch; null = none. */
  maxConcurrency: number | null;
  maxErrors: number | null;
  total: number;
  /** Why delivery stopped early (cancel, max_errors), or null. */
  stoppedReason: string | null;
  retryOf: string | null;
  scriptId: string | null;
  createdBy: string;
  createdAt: string;
  finishedAt: string | null;
}

/** Where a page of a job's runs starts (the last run of the previous page), how many, and which state. */
export interface RunPageQuery {
  limit: number;
  after?: { hostname: string; id: string } | undefined;
  state?: RunState | undefined;
}

export interface RunRecord {
  id: string;
  jobId: string;
  organizationId: string;
  systemId: string;
  hostname: string;
  state: RunState;
  exitCode: number | null;
  signal: string | null;
  reason: string | null;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  createdAt: string;
  deliveredAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RunOutput {
  stdout: string;
  stderr: string;
}

/** A run as handed to an agent: the frozen script of its job, with the job's environment and the run's own on top. */
export interface Delivery {
  runId: string;
  jobId: string;
  shell: string;
  content: string;
  env: Record<string, string>;
  timeoutS: number;
  runAs: string | null;
}

/** The final state of a run, as core decided it from the agent's result. */
export interface RunCompletion {
  state: RunState;
  exitCode: number | null;
  signal: string | null;
  reason: string | null;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  startedAt: string | null;
  finishedAt: string;
}

/** A run an agent must be told to stop. */
export interface RunRef {
  runId: string;
  systemId: string;
}

export interface NewRun {
  id: string;
  systemId: string;
  deliverDeadline: string;
  /** This run's own variables, laid over the job's at delivery; absent when it has none. */
  env?: Record<string, string>;
}

/** One agent's result waiting to be stored with others (group commit). */
export interface ResultToStore {
  systemId: string;
  runId: string;
  completion: RunCompletion;
}

/** An agent said it started a run. */
export interface RunStart {
  systemId: string;
  runId: string;
  at: string;
}

/** What storing a result did: stored now, already stored (the agent may forget it either way), or not this system's run. */
export type StoreOutcome = 'stored' | 'duplicate' | 'unknown';

/** What a state change did to its job, so the engine can react (free slots, wake deliveries). */
export interface JobEffect {
  jobId: string;
  /** Systems with runs of this job still waiting, when a concurrency slot was freed. */
  waitingSystems: string[];
}

/**
 * Storage of jobs and runs: every rule that must hold across replicas is one
 * statement or one transaction here. Every change of a run's state or a job's
 * phase comes back as a Transition, taken from the statement that made it.
 */
export interface JobStore {
  /** Writes the job and all its runs in one transaction; returns the job's and each run's `launched` transition. */
  insertJob(job: JobRecord, runs: NewRun[]): Promise<Transition[]>;
  getJob(organizationId: string, id: string): Promise<JobRecord | undefined>;
  listJobs(organizationId: string, limit: number, before?: string): Promise<JobRecord[]>;
  countRuns(jobId: string): Promise<Partial<Record<RunState, number>>>;
  listRuns(organizationId: string, jobId: string): Promise<RunRecord[]>;
  /**
   * One page of a job's runs by (hostname, run id), after `after` when given,
   * only in `state` when given, with how many runs match in all. Keyset, not
   * offset: a run changing state never shifts another across pages.
   */
  listRunsPage(organizationId: string, jobId: string, page: RunPageQuery): Promise<{ runs: RunRecord[]; total: number }>;
  /** A system's newest runs, of every job, newest first. */
  listRunsOfSystem(organizationId: string, systemId: string, limit: number): Promise<RunRecord[]>;
  getRun(organizationId: string, id: string): Promise<(RunRecord & RunOutput) | undefined>;
  /** Systems of a job's runs in the given states. */
  systemsInStates(jobId: string, states: readonly RunState[]): Promise<string[]>;
  /** The own variables of a job's runs, keyed by system id; runs without any are left out. */
  runEnvs(jobId: string): Promise<Record<string, Record<string, string>>>;
  /**
   * Claims the deliverable pending runs of many systems in one transaction (a
   * fan-out claims once, not once per system): each takes a concurrency slot
   * of its job (atomically, so no replica can exceed `max_concurrency`) and is
   * marked delivered, once. Deliveries keyed by system id, and each claimed
   * run's pending → delivered transition.
   */
  claimPendingBatch(systemIds: string[], at: string, lostGraceS: number): Promise<{ deliveries: Map<string, Delivery[]>; transitions: Transition[] }>;
  /** Runs marked delivered to this system that the agent says it does not have (lost in transit). */
  undelivered(systemId: string, agentActive: string[]): Promise<Delivery[]>;
  /** Runs of this system whose cancellation the agent has not confirmed. */
  cancelRequested(systemId: string): Promise<string[]>;
  /** Of these systems, the ones with pending runs. */
  systemsWithPending(systemIds: string[]): Promise<string[]>;
  /** Marks many runs running in one transaction (group commit), each only from `delivered` and only for its own system; returns the transitions it made. */
  markStartedBatch(items: RunStart[]): Promise<Transition[]>;
  appendChunk(systemId: string, runId: string, seq: number, stream: string, data: string, at: string): Promise<void>;
  /**
   * Stores many results in one transaction (group commit), each unless its run
   * already ended (a late result replaces `lost`); frees the jobs' slots,
   * counts errors, stops a job past max_errors. One outcome per item, in
   * order, one effect per job touched, and every transition the batch made
   * (runs ended, waiting runs cancelled past max_errors, jobs stopped or
   * finished). All or nothing.
   */
  completeRuns(items: ResultToStore[], storedAt: string): Promise<{ outcomes: StoreOutcome[]; effects: JobEffect[]; transitions: Transition[] }>;
  /** Output chunks and ended runs after a cursor, in the order a stream replays them. */
  readEvents(organizationId: string, scope: EventScope, cursor: EventCursor, limit: number): Promise<EventBatch | undefined>;
  /** Pending runs past their deadline → undeliverable; in-flight runs of absent systems past `lost_after` → lost. */
  sweep(now: string): Promise<{ effects: JobEffect[]; transitions: Transition[] }>;
  /** Cancels a job's (or one run's) runs: pending ones at once; in-flight ones are flagged and returned for the agent to stop. */
  cancel(
    organizationId: string,
    target: { jobId: string } | { runId: string },
    reason: string,
    at: string,
  ): Promise<{ found: boolean; inFlight: RunRef[]; transitions: Transition[] }>;
  /** An agent confirmed it does not have a cancelled run: end it now. */
  cancelAbsent(systemId: string, runIds: string[], at: string): Promise<Transition[]>;
}

/** What a live stream follows: a whole job, or one run. */
export type EventScope = { jobId: string } | { runId: string };

/** Where a stream is: the last output chunk and the last ended run it has sent. */
export interface EventCursor {
  output: [createdAt: string, runId: string, seq: number] | null;
  ended: [endedAt: string, runId: string] | null;
}

export interface OutputEvent {
  runId: string;
  systemId: string;
  hostname: string;
  seq: number;
  stream: 'stdout' | 'stderr';
  data: string;
  createdAt: string;
}

export interface EndedEvent {
  runId: string;
  systemId: string;
  hostname: string;
  state: RunState;
  exitCode: number | null;
  signal: string | null;
  reason: string | null;
  endedAt: string;
}

export interface EventBatch {
  jobId: string;
  output: OutputEvent[];
  ended: EndedEvent[];
  /** Every run in scope has ended. */
  done: boolean;
}
