import type { Job, Run, RunWithOutput } from '../api/native/index.js';
import type { ApiClient } from './client.js';
import { ProgressLine } from './output.js';
import { jobProgress, progressText, runReport } from './run-report.js';

/** How often a waiting CLI asks for the job when it cannot stream. */
export const POLL_MS = 300;

/** Where the watchers write; the process's streams unless a test gives others. */
export interface Sinks {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  progress: ProgressLine;
}

/** The process's stdout and stderr, with a progress line when stderr is a terminal. */
export function processSinks(): Sinks {
  return { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), progress: new ProgressLine() };
}

export const jobPath = (id: string): string => `/v1/jobs/${encodeURIComponent(id)}`;

/**
 * Asks for the job every `intervalMs` until it is done, keeping the progress
 * line up to date; returns the final job.
 */
export async function pollJob(client: ApiClient, jobId: string, sinks: Sinks, intervalMs = POLL_MS): Promise<Job> {
  for (;;) {
    const job = await client.request<Job>('GET', jobPath(jobId));
    const { done, failed } = jobProgress(job);
    if (job.done) {
      sinks.progress.clear();
      return job;
    }
    sinks.progress.show(progressText(done, job.total, failed));
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Output fetches in flight at once: quick for a fleet, gentle on the server. */
const FETCH_CONCURRENCY = 8;

/** The final runs of a job, each with its captured output, in the server's order. */
export async function runsWithOutput(client: ApiClient, jobId: string): Promise<RunWithOutput[]> {
  const items = await client.list<Run>(`${jobPath(jobId)}/runs`);
  const runs: RunWithOutput[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) runs[i] = await client.request<RunWithOutput>('GET', `/v1/runs/${encodeURIComponent(items[i]!.id)}`);
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, items.length) }, worker));
  return runs;
}

/** Prints each system's block: `── host (id) ──`, its stdout to stdout, its stderr to stderr, then how it ended. */
export function printGrouped(runs: readonly RunWithOutput[], sinks: Sinks): void {
  for (const run of runs) {
    const report = runReport(run);
    sinks.stdout(`${report.header}\n`);
    sinks.stdout(report.stdout);
    sinks.stderr(report.stderr);
    sinks.stdout(`${report.footer}\n`);
  }
}
