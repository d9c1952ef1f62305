import type { RunState } from './run-states.js';

export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/**
 * A job's overall status from its run counts: running until every run ended;
 * then succeeded when all did, cancelled when someone cancelled it, else failed.
 */
export function jobStatus(counts: Partial<Record<RunState, number>>, total: number, stoppedReason: string | null, done: boolean): JobStatus {
  if (!done) return 'running';
  if ((counts.succeeded ?? 0) === total) return 'succeeded';
  return (counts.cancelled ?? 0) > 0 && stoppedReason?.startsWith('cancelled') ? 'cancelled' : 'failed';
}
