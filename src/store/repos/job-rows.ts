import type { Selectable } from 'kysely';
import type { JobRecord, JobSource, RunRecord, RunState } from '../../core/jobs/index.js';
import type { JobTable, RunTable } from '../schema.js';
import { fromJson } from './json.js';

/** Row ↔ record mapping for jobs and runs. */
export function jobFromRow(row: Selectable<JobTable>): JobRecord {
  return {
    id: row.id,
    organizationId: row.organization_id,
    source: row.source as JobSource,
    shell: row.shell,
    content: row.content,
    env: fromJson<Record<string, string>>(row.env, {}),
    timeoutS: Number(row.timeout_s),
    ttlS: Number(row.ttl_s),
    runAs: row.run_as,
    selector: row.selector,
    maxConcurrency: row.max_concurrency === null ? null : Number(row.max_concurrency),
    maxErrors: row.max_errors === null ? null : Number(row.max_errors),
    total: Number(row.total),
    stoppedReason: row.stopped_reason,
    retryOf: row.retry_of,
    scriptId: row.script_id,
    createdBy: row.created_by,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

export type RunRow = Pick<
  Selectable<RunTable>,
  | 'id'
  | 'job_id'
  | 'organization_id'
  | 'system_id'
  | 'state'
  | 'exit_code'
  | 'signal'
  | 'reason'
  | 'stdout_truncated'
  | 'stderr_truncated'
  | 'created_at'
  | 'delivered_at'
  | 'started_at'
  | 'finished_at'
> & { hostname: string | null };

export const RUN_COLUMNS = [
  'runs.id',
  'runs.job_id',
  'runs.organization_id',
  'runs.system_id',
  'runs.state',
  'runs.exit_code',
  'runs.signal',
  'runs.reason',
  'runs.stdout_truncated',
  'runs.stderr_truncated',
  'runs.created_at',
  'runs.delivered_at',
  'runs.started_at',
  'runs.finished_at',
] as const;

export function runFromRow(row: RunRow): RunRecord {
  return {
    id: row.id,
    jobId: row.job_id,
    organizationId: row.organization_id,
    systemId: row.system_id,
    hostname: row.hostname ?? '',
    state: row.state as RunState,
    exitCode: row.exit_code === null ? null : Number(row.exit_code),
    signal: row.signal,
    reason: row.reason,
    stdoutTruncated: Number(row.stdout_truncated) === 1,
    stderrTruncated: Number(row.stderr_truncated) === 1,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
