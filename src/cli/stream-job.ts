import type { Job, OutputEvent, Run, RunEndEvent, RunWithOutput } from '../api/native/index.js';
import type { ApiClient } from './client.js';
import { progressText, verdict } from './run-report.js';
import { followEvents } from './sse.js';
import { jobPath, type Sinks } from './watch.js';

type Stream = 'stdout' | 'stderr';

/**
 * Prints streamed output line by line, each prefixed with its system's
 * hostname; keeps partial lines until they end, and remembers how much of
 * each run's output it has shown and which runs it has seen end.
 */
export class LinePrinter {
  private readonly partial = new Map<string, string>();
  private readonly shown = new Map<string, number>();
  readonly ended = new Set<string>();

  constructor(
    private readonly width: number,
    private readonly sinks: Sinks,
  ) {}

  /** Adds a chunk of a run's output; prints every line it completes. */
  write(host: string, runId: string, stream: Stream, data: string): void {
    const key = `${runId}/${stream}`;
    this.shown.set(key, (this.shown.get(key) ?? 0) + data.length);
    const lines = ((this.partial.get(key) ?? '') + data).split('\n');
    this.partial.set(key, lines.pop()!);
    for (const line of lines) this.emit(host, stream, line);
  }

  /** Prints what is left of a run's partial lines, then how it ended. */
  end(host: string, runId: string, how: string): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.partial.get(`${runId}/${stream}`);
      if (rest) this.emit(host, stream, rest);
      this.partial.delete(`${runId}/${stream}`);
    }
    this.ended.add(runId);
    this.sinks.stdout(`${host.padEnd(this.width)} : ${how}\n`);
  }

  /** Shows the part of a finished run's stored output the stream did not carry, then how it ended. */
  catchUp(run: RunWithOutput): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const stored = run[stream];
      const seen = this.shown.get(`${run.id}/${stream}`) ?? 0;
      // A truncated capture kept only its tail, so offsets no longer line up: show nothing twice.
      if (!run[`${stream}_truncated`] && stored.length > seen) this.write(run.hostname, run.id, stream, stored.slice(seen));
    }
    this.end(run.hostname, run.id, verdict(run));
  }

  private emit(host: string, stream: Stream, line: string): void {
    this.sinks[stream](`${host.padEnd(this.width)} | ${line}\n`);
  }
}

/**
 * Streams a job's output over its event stream until it ends, each line
 * prefixed with its hostname; returns the final job. The stream is taken as
 * a hint, not the record: runs it did not report ending are then read from
 * the API, so a late event cannot go missing. Throws EventsUnsupported when
 * the server has no event stream (the caller then polls).
 */
export async function streamJob(client: ApiClient, job: Pick<Job, 'id' | 'total'>, hostnames: readonly string[], sinks: Sinks): Promise<Job> {
  const printer = new LinePrinter(Math.min(30, Math.max(8, ...hostnames.map((h) => h.length))), sinks);
  let failed = 0;
  const progress = () => sinks.progress.show(progressText(printer.ended.size, job.total, failed));
  progress();
  for await (const e of followEvents(client, `${jobPath(job.id)}/events`)) {
    sinks.progress.clear();
    if (e.event === 'output') {
      const o = e.data as OutputEvent;
      printer.write(o.hostname, o.run_id, o.stream, o.data);
    } else if (e.event === 'run') {
      const r = e.data as RunEndEvent;
      if (r.state !== 'succeeded') failed++;
      printer.end(r.hostname, r.run_id, verdict(r));
    }
    if (e.event !== 'end') progress();
  }
  sinks.progress.clear();
  const final = await client.request<Job>('GET', jobPath(job.id));
  if (printer.ended.size < final.total) {
    const missing = (await client.list<Run>(`${jobPath(job.id)}/runs`)).filter((r) => !printer.ended.has(r.id));
    for (const run of missing) printer.catchUp(await client.request<RunWithOutput>('GET', `/v1/runs/${encodeURIComponent(run.id)}`));
  }
  return final;
}
