import { TERMINAL_STATES, type JobView, type RunState } from '../jobs/index.js';
import type { JobStatusFilter } from './store.js';

/** A run's state as SimpleMDM names a device's status in a script job. */
export const DEVICE_STATUSES = ['pending', 'sent', 'running', 'completed', 'failed', 'cancelled'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

const DEVICE_STATUS: Record<RunState, DeviceStatus> = {
  pending: 'pending',
  delivered: 'sent',
  running: 'running',
  succeeded: 'completed',
  cancelled: 'cancelled',
  failed: 'failed',
  timed_out: 'failed',
  lost: 'failed',
  undeliverable: 'failed',
};

/** The status of a device whose run is in `state`. */
export function deviceStatusOf(state: RunState): DeviceStatus {
  return DEVICE_STATUS[state];
}

/** A script job's counts and status as SimpleMDM shows them, from its job's counts per run state. */
export interface ScriptJobTally {
  pending: number;
  succeeded: number;
  errored: number;
  /** `pending` until every run has ended, then `completed` when all succeeded, else `failed`. */
  status: JobStatusFilter;
  devices: Record<DeviceStatus, number>;
}

/** Tallies a job's runs as a script job's. */
export function scriptJobTally(job: JobView): ScriptJobTally {
  const succeeded = job.counts.succeeded;
  const ended = TERMINAL_STATES.reduce((n, s) => n + job.counts[s], 0);
  const devices = Object.fromEntries(DEVICE_STATUSES.map((s) => [s, 0])) as Record<DeviceStatus, number>;
  for (const [state, n] of Object.entries(job.counts)) devices[DEVICE_STATUS[state as RunState]] += n;
  return {
    pending: job.total - ended,
    succeeded,
    errored: ended - succeeded,
    status: !job.done ? 'pending' : succeeded === job.total ? 'completed' : 'failed',
    devices,
  };
}

/** One script job in a list: its job, integer id, names and tally. */
export interface ScriptJobSummary {
  job: JobView;
  number: number;
  scriptName: string;
  jobName: string;
  tally: ScriptJobTally;
}
