import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { syncDir, writeFileAtomic } from './atomic-file.js';
import type { ExecResult } from './executor.js';
import type { ProcessRecord } from './orphans.js';
import { isSpooledOutputFile, OutputSpoolWriter, readSpooledOutput, removeSpooledOutput } from './spool-output.js';

/** `pid` and `process_start` are added once the script's process exists. */
type StartedEntry = { state: 'started'; run_id: string; job_id: string; started_at: string; pid?: number; process_start?: string | null };
type Entry = StartedEntry | { state: 'finished'; result: ExecResult };
export type SpoolStatus = 'unknown' | 'started' | 'finished' | 'acked';

/** Tombstones of acknowledged runs are kept this long, so a late redelivery never runs twice. */
export const TOMBSTONE_MS = 7 * 24 * 3600 * 1000;

export const LOST_ERROR = 'the agent restarted while this run was in progress';

/** What the agent did about a run's processes left by its previous life: a sentence for the lost result, or nothing. */
export type StopLeftover = (runId: string, record: ProcessRecord) => string | undefined;

const DEFAULT_OUTPUT_CAP = 1024 * 1024;

const RUN_ID = /^\w{1,64}$/;

/**
 * The agent's memory of runs, on disk, one file per run: `<id>.json` is
 * written `started` before the process exists, gains the process's identity
 * once it does, and becomes `finished` (with the whole result) before the
 * result is sent; on the server's ack it is replaced by a tombstone
 * `<id>.acked`. Writes are durable (fsync) and atomic (rename), so neither a
 * crash nor a power cut loses a result or lets a run execute twice. While a
 * script runs, its output is copied beside it (`<id>.stdout`, `<id>.stderr`),
 * so that a run cut short by the agent's death still reports what it printed.
 */
export class Spool {
  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
    private readonly outputCap: number = DEFAULT_OUTPUT_CAP,
  ) {}

  /**
   * Prepares the folder and recovers from a previous process: runs it left
   * `started` become `lost` (returned), with the output they had printed and,
   * when `stopLeftover` dealt with processes they left running, what it did;
   * old tombstones, stray output and temp files go.
   */
  open(stopLeftover?: StopLeftover): ExecResult[] {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const lost: ExecResult[] = [];
    const names = readdirSync(this.dir);
    for (const name of names) {
      const path = join(this.dir, name);
      if (name.includes('.tmp-')) rmSync(path, { force: true });
      else if (name.endsWith('.acked') && this.now() - statSync(path).mtimeMs > TOMBSTONE_MS) rmSync(path, { force: true });
      else if (name.endsWith('.json')) {
        const entry = this.read(name.slice(0, -5));
        if (entry?.state === 'started') lost.push(this.markLost(entry, stopLeftover));
      }
    }
    // Output of runs whose result is spooled already (a crash between the two writes).
    for (const name of names) if (isSpooledOutputFile(name)) rmSync(join(this.dir, name), { force: true });
    return lost;
  }

  /** What the spool knows of a run. */
  status(runId: string): SpoolStatus {
    if (!RUN_ID.test(runId)) return 'unknown';
    if (existsSync(join(this.dir, `${runId}.acked`))) return 'acked';
    return this.read(runId)?.state ?? 'unknown';
  }

  /** Records that a run is about to start; call before spawning its process. */
  markStarted(runId: string, jobId: string, startedAt: string): void {
    this.write(runId, { state: 'started', run_id: runId, job_id: jobId, started_at: startedAt });
  }

  /**
   * Records the identity of a started run's process group, so that a later
   * agent process can stop it if this one dies. Not fsynced: a power cut,
   * the only thing that loses an unsynced write, ends the processes too.
   */
  markProcess(runId: string, record: ProcessRecord): void {
    const entry = this.read(runId);
    if (entry?.state !== 'started') return;
    writeFileAtomic(join(this.dir, `${runId}.json`), JSON.stringify({ ...entry, pid: record.pid, process_start: record.start }), 0o600, { sync: false });
  }

  /** Where a started run's output is copied as it arrives; `onError` hears once if the disk refuses. */
  outputWriter(runId: string, onError: (err: Error) => void): OutputSpoolWriter {
    if (!RUN_ID.test(runId)) throw new Error(`refusing to spool run id ${JSON.stringify(runId)}`);
    return new OutputSpoolWriter(this.dir, runId, this.outputCap, onError);
  }

  /** Records a run's result; call before sending it. Its copied output goes: the result holds the tail. */
  finish(result: ExecResult): void {
    this.write(result.run_id, { state: 'finished', result });
    if (RUN_ID.test(result.run_id)) removeSpooledOutput(this.dir, result.run_id);
  }

  /** The server has stored the result: forget it, keeping a tombstone. */
  acknowledge(runId: string): void {
    if (!RUN_ID.test(runId)) return;
    writeFileAtomic(join(this.dir, `${runId}.acked`), '');
    rmSync(join(this.dir, `${runId}.json`), { force: true });
    syncDir(this.dir);
  }

  /** A finished run's result, if the spool holds it. */
  result(runId: string): ExecResult | undefined {
    const entry = this.read(runId);
    return entry?.state === 'finished' ? entry.result : undefined;
  }

  /** Every finished result the server has not acknowledged, oldest first. */
  pendingResults(): ExecResult[] {
    return readdirSync(this.dir)
      .filter((n) => n.endsWith('.json'))
      .flatMap((n) => {
        const entry = this.read(n.slice(0, -5));
        return entry?.state === 'finished' ? [entry.result] : [];
      })
      .sort((a, b) => a.finished_at.localeCompare(b.finished_at));
  }

  private markLost(entry: StartedEntry, stopLeftover: StopLeftover | undefined): ExecResult {
    const output = readSpooledOutput(this.dir, entry.run_id, this.outputCap);
    const note = entry.pid !== undefined ? stopLeftover?.(entry.run_id, { pid: entry.pid, start: entry.process_start ?? null }) : undefined;
    const result: ExecResult = {
      run_id: entry.run_id,
      outcome: 'lost',
      exit_code: null,
      signal: null,
      started_at: entry.started_at,
      finished_at: new Date(this.now()).toISOString(),
      ...output,
      error: note ? `${LOST_ERROR}; ${note}` : LOST_ERROR,
    };
    this.finish(result);
    return result;
  }

  private read(runId: string): Entry | undefined {
    if (!RUN_ID.test(runId)) return undefined;
    try {
      return JSON.parse(readFileSync(join(this.dir, `${runId}.json`), 'utf8')) as Entry;
    } catch {
      return undefined;
    }
  }

  private write(runId: string, entry: Entry): void {
    if (!RUN_ID.test(runId)) throw new Error(`refusing to spool run id ${JSON.stringify(runId)}`);
    writeFileAtomic(join(this.dir, `${runId}.json`), JSON.stringify(entry));
  }
}
