import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TailBuffer } from './tail-buffer.js';

type Stream = 'stdout' | 'stderr';
const STREAMS: readonly Stream[] = ['stdout', 'stderr'];

/** A running script's output as the agent received it, recovered after the agent died. */
export interface RecoveredOutput {
  stdout: string;
  stderr: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
}

function paths(dir: string, runId: string, stream: Stream): { current: string; previous: string } {
  return { current: join(dir, `${runId}.${stream}`), previous: join(dir, `${runId}.${stream}.1`) };
}

/**
 * Copies a running script's output to the spool as it arrives, so that what
 * reached the agent survives the agent being killed (the live messages only
 * reach the server while connected, and the result only exists at the end).
 * Each piece is written with write(2) as it is read, without fsync: a killed
 * agent loses nothing the kernel holds, and a power cut ends the script too.
 * Disk use stays under twice the output cap per stream: past the cap the
 * file becomes `<run>.<stream>.1` (replacing the one before) and a new one
 * starts, so the two always hold the tail. A failing disk stops the copy,
 * never the run.
 */
export class OutputSpoolWriter {
  private readonly fds: Partial<Record<Stream, number>> = {};
  private readonly sizes: Record<Stream, number> = { stdout: 0, stderr: 0 };
  private failed = false;

  constructor(
    private readonly dir: string,
    private readonly runId: string,
    private readonly cap: number,
    private readonly onError: (err: Error) => void,
  ) {}

  write(stream: Stream, data: Buffer): void {
    if (this.failed) return;
    try {
      if (this.sizes[stream] + data.length > this.cap && this.sizes[stream] > 0) this.rotate(stream);
      this.fds[stream] ??= openSync(paths(this.dir, this.runId, stream).current, 'a', 0o600);
      writeSync(this.fds[stream], data);
      this.sizes[stream] += data.length;
    } catch (err) {
      this.failed = true;
      this.close();
      this.onError(err as Error);
    }
  }

  /** Closes the files (they stay until the run's result is spooled). */
  close(): void {
    for (const stream of STREAMS) {
      const fd = this.fds[stream];
      if (fd === undefined) continue;
      delete this.fds[stream];
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  }

  private rotate(stream: Stream): void {
    const fd = this.fds[stream];
    if (fd !== undefined) closeSync(fd);
    delete this.fds[stream];
    const { current, previous } = paths(this.dir, this.runId, stream);
    renameSync(current, previous);
    this.sizes[stream] = 0;
  }
}

function readQuietly(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** The tail (at most `cap` bytes per stream) of what OutputSpoolWriter kept for a run; empty when nothing was kept. */
export function readSpooledOutput(dir: string, runId: string, cap: number): RecoveredOutput {
  const out: RecoveredOutput = { stdout: '', stderr: '', stdout_truncated: false, stderr_truncated: false };
  for (const stream of STREAMS) {
    const { current, previous } = paths(dir, runId, stream);
    const tail = new TailBuffer(cap);
    const older = readQuietly(previous);
    if (older) tail.write(older);
    tail.write(readQuietly(current) ?? Buffer.alloc(0));
    out[stream] = tail.text();
    // Rotation happens when the next piece would pass the cap, so after any drop the two files hold more than the cap.
    out[`${stream}_truncated`] = tail.truncated;
  }
  return out;
}

/** Removes a run's spooled output (its result, which holds the tail, is on disk by then). */
export function removeSpooledOutput(dir: string, runId: string): void {
  for (const stream of STREAMS) {
    const { current, previous } = paths(dir, runId, stream);
    rmSync(current, { force: true });
    rmSync(previous, { force: true });
  }
}

/** True for the names of spooled output files (`<run>.stdout`, `<run>.stderr.1`, …). */
export function isSpooledOutputFile(name: string): boolean {
  return /\.(stdout|stderr)(\.1)?$/.test(name);
}
