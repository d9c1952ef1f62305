import type { Job, Run, RunCounts, RunWithOutput } from '../api/native/index.js';

/** What the progress and summary lines read of a job: counts may leave out states no run is in. */
type JobTally = Pick<Job, 'total'> & { counts: Partial<RunCounts> };

/** How a run ended, in a few words: `exit code 3`, `timed out`, `undeliverable: agent offline`. */
export function verdict(run: Pick<Run, 'state' | 'exit_code' | 'reason'> & { signal?: string | null }): string {
  if ((run.state === 'succeeded' || run.state === 'failed') && run.exit_code !== null) return `exit code ${run.exit_code}`;
  const state = run.state.replaceAll('_', ' ');
  const why = run.reason ?? (run.signal ? `killed by ${run.signal}` : null);
  return why ? `${state}: ${why}` : state;
}

/** The line above one system's output: `── web-1 (5f3a…) ──`. */
export function runHeader(run: Pick<Run, 'hostname' | 'system_id'>): string {
  return `── ${run.hostname} (${run.system_id}) ──`;
}

/** How many of a job's runs have ended, and how many of those did not succeed. */
export function jobProgress(job: JobTally): { done: number; failed: number } {
  const open = (job.counts.pending ?? 0) + (job.counts.delivered ?? 0) + (job.counts.running ?? 0);
  const done = job.total - open;
  return { done, failed: done - (job.counts.succeeded ?? 0) };
}

/** The progress line's text: `3/10 done, 1 failed`. */
export function progressText(done: number, total: number, failed: number): string {
  return `${done}/${total} done${failed > 0 ? `, ${failed} failed` : ''}`;
}

/** The closing line: `2 succeeded, 1 failed (job …)`, with why the engine stopped early, if it did (older servers do not say). */
export function summary(job: JobTally & Pick<Job, 'id'> & Partial<Pick<Job, 'stopped_reason'>>): string {
  const succeeded = job.counts.succeeded ?? 0;
  return `${succeeded} succeeded, ${job.total - succeeded} failed (job ${job.id})${job.stopped_reason ? ` — ${job.stopped_reason}` : ''}`;
}

/** Where each part of one run's report goes. */
export interface RunReport {
  header: string;
  stdout: string;
  stderr: string;
  footer: string;
}

/**
 * One system's block for the grouped report: header, its stdout and stderr
 * (each ending in a newline when not empty), then the verdict. Truncation is
 * noted on stderr, so stdout holds only what the command printed.
 */
export function runReport(run: RunWithOutput): RunReport {
  const ended = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`);
  const notes = (['stdout', 'stderr'] as const).filter((s) => run[`${s}_truncated`]).map((s) => `[${s} truncated: only its end was kept]\n`);
  return { header: runHeader(run), stdout: ended(run.stdout), stderr: notes.join('') + ended(run.stderr), footer: verdict(run) };
}
