import type { Command } from 'commander';
import type { Job, Launched, Run } from '../api/native/index.js';
import { positiveInteger } from './args.js';
import { action, clientFor, connectionOptions, listCommand } from './context.js';
import { ago, out, outJson, table } from './output.js';
import { jobProgress, verdict } from './run-report.js';
import { failedExit, followJob, interruptible, printDetached } from './run.js';
import { processSinks } from './watch.js';

const firstLine = (s: string | undefined) => (s ?? '').split('\n')[0]!.slice(0, 40);
const jobPath = (id: string) => `/v1/jobs/${encodeURIComponent(id)}`;

/** The jobs table: ID, STATUS, DONE, FAILED, SOURCE, CREATED, COMMAND. */
export function jobsTable(items: readonly Job[], now = Date.now()): string {
  return table(
    ['ID', 'STATUS', 'DONE', 'FAILED', 'SOURCE', 'CREATED', 'COMMAND'],
    items.map((j) => {
      const { done, failed } = jobProgress(j);
      return [j.id, j.status, `${done}/${j.total}`, String(failed), j.source, ago(j.created_at, now), firstLine(j.content)];
    }),
  );
}

/** One job in words, then its runs as a table. */
export function jobDetail(job: Job, runs: readonly Run[]): string {
  const counts = Object.entries(job.counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([s, n]) => `${n} ${s.replaceAll('_', ' ')}`);
  const lines = [`job ${job.id}: ${job.status}, ${job.total} systems${counts.length ? ` (${counts.join(', ')})` : ''}`];
  if (job.stopped_reason) lines.push(`stopped: ${job.stopped_reason}`);
  lines.push(
    table(
      ['RUN', 'HOSTNAME', 'SYSTEM', 'STATE', 'RESULT'],
      runs.map((r) => [r.id, r.hostname, r.system_id, r.state, r.finished_at ? verdict(r) : '']),
    ),
  );
  return lines.join('\n');
}

/** `muster jobs list|show|cancel|retry` and `muster logs RUN`. */
export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('launched jobs: list, show, cancel, retry');
  registerReads(jobs);
  registerChanges(jobs);
  registerLogs(program);
}

function registerReads(jobs: Command): void {
  listCommand<Job, { limit: number }>(jobs, {
    description: 'the newest jobs',
    noun: 'jobs',
    options: (list) => list.option('--limit <n>', 'how many (newest first)', positiveInteger, 20),
    path: (opts) => `/v1/jobs?limit=${opts.limit}`,
    table: jobsTable,
    empty: 'no jobs yet',
  });

  connectionOptions(jobs.command('show <id>'))
    .description('a job and its runs')
    .option('--json', 'print {job, runs} as JSON')
    .action(
      action(async (id: string, opts: { json?: boolean }, command: Command) => {
        const client = clientFor(command);
        const job = await client.request<Job>('GET', jobPath(id));
        const items = await client.list<Run>(`${jobPath(id)}/runs`);
        if (opts.json) return outJson({ job, runs: items });
        out(jobDetail(job, items));
      }),
    );
}

function registerChanges(jobs: Command): void {
  connectionOptions(jobs.command('cancel <id>'))
    .description('cancel a job: waiting runs end, running ones are killed')
    .action(
      action(async (id: string, _opts: unknown, command: Command) => {
        const job = await clientFor(command).request<Job>('POST', `${jobPath(id)}/cancel`);
        out(`job ${job.id}: ${job.status} (${job.counts.cancelled ?? 0} cancelled)`);
      }),
    );

  connectionOptions(jobs.command('retry <id>'))
    .description("relaunch a job's failed, timed-out, lost and undeliverable runs as a new job")
    .option('--detach', 'print the new job id and return')
    .option('--json', 'print the final runs, with their output, as JSON (with --detach, {job, runs} as launched)')
    .action(
      action(async (id: string, opts: { detach?: boolean; json?: boolean }, command: Command) => {
        const client = clientFor(command);
        const created = await client.request<Launched>('POST', `${jobPath(id)}/retry`);
        if (opts.detach) return printDetached(created, Boolean(opts.json));
        const sinks = processSinks();
        failedExit(await interruptible(created.job.id, sinks, () => followJob(client, created, Boolean(opts.json), sinks)));
      }),
    );
}

function registerLogs(program: Command): void {
  connectionOptions(program.command('logs <run>'))
    .description("a run's captured output")
    .option('--stderr', 'stderr instead of stdout')
    .action(
      action(async (run: string, opts: { stderr?: boolean }, command: Command) => {
        const text = await clientFor(command).request<string | undefined>(
          'GET',
          `/v1/runs/${encodeURIComponent(run)}/output?stream=${opts.stderr ? 'stderr' : 'stdout'}`,
        );
        process.stdout.write(text ?? '');
      }),
    );
}
