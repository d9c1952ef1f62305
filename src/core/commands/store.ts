import type { RunState } from '../jobs/index.js';

/** A named trigger. Commands refer to it by name; its secret (if any) lets a caller fire it without an API key. */
export interface TriggerRecord {
  id: string;
  organizationId: string;
  name: string;
  /** The HMAC-SHA256 key of signed calls; null when only API keys may fire it. */
  secret: string | null;
  createdAt: string;
  createdBy: string;
}

/** Storage of triggers and of the idempotency keys of trigger calls. */
export interface TriggerStore {
  /** False when the organization already has a trigger of that name. */
  insertTrigger(trigger: TriggerRecord): Promise<boolean>;
  listTriggers(organizationId: string): Promise<TriggerRecord[]>;
  getTrigger(organizationId: string, name: string): Promise<TriggerRecord | undefined>;
  /** Every organization's trigger of this name that has a secret (for signed calls, which name no organization). */
  triggersWithSecret(name: string): Promise<TriggerRecord[]>;
  setSecret(organizationId: string, name: string, secret: string | null): Promise<boolean>;
  deleteTrigger(organizationId: string, name: string): Promise<boolean>;
  /**
   * Claims an idempotency key. `claimed` for the first caller; otherwise the
   * first call's stored result, or null while that call is still launching.
   */
  claimCall(
    key: { organizationId: string; triggerName: string; idempotencyKey: string },
    now: string,
    expiresAt: string,
  ): Promise<{ claimed: true } | { claimed: false; result: string | null }>;
  storeCallResult(key: { organizationId: string; triggerName: string; idempotencyKey: string }, result: string): Promise<void>;
  /** Forgets a claim whose call failed, so a retry may launch. */
  releaseCall(key: { organizationId: string; triggerName: string; idempotencyKey: string }): Promise<void>;
}

/** One run of a command's job, as a result. */
export interface CommandResultRecord {
  runId: string;
  jobId: string;
  organizationId: string;
  commandId: string;
  /** The command's name now; empty when the command was deleted. */
  commandName: string;
  /** The content the job froze. */
  content: string;
  runAs: string | null;
  systemId: string;
  hostname: string;
  state: RunState;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  reason: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/** A command result without its output, as listings give it (output can be 2 MiB a run). */
export type CommandResultSummary = Omit<CommandResultRecord, 'stdout' | 'stderr'>;

/** Fields command results can be sorted on. */
export const RESULT_SORT_FIELDS = ['runId', 'commandId', 'commandName', 'systemId', 'hostname', 'exitCode', 'createdAt', 'finishedAt'] as const;
export type ResultSortField = (typeof RESULT_SORT_FIELDS)[number];

/** A page of command results: by default newest first. */
export interface CommandResultQuery {
  commandId?: string;
  limit: number;
  skip: number;
  sort?: Array<{ field: ResultSortField; desc: boolean }>;
}

/** Reading command results (ended runs of jobs launched from a saved script), and group lookups for bindings. */
export interface CommandResultStore {
  listResults(organizationId: string, query: CommandResultQuery): Promise<{ total: number; items: CommandResultRecord[] }>;
  /** The same page without output. */
  listResultSummaries(organizationId: string, query: CommandResultQuery): Promise<{ total: number; items: CommandResultSummary[] }>;
  getResult(organizationId: string, runId: string): Promise<CommandResultRecord | undefined>;
  /** Hides a result from listings; false when there is no such visible result. */
  hideResult(organizationId: string, runId: string, at: string): Promise<boolean>;
  /** The subset of `ids` that are groups of the organization. */
  existingGroupIds(organizationId: string, ids: string[]): Promise<string[]>;
  /** Members of these groups (matched by id or name), with the group they came through. */
  groupMembers(organizationId: string, groups: string[]): Promise<Array<{ groupId: string; systemId: string }>>;
}
