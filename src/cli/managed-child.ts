import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** The last `lines` lines of a log file, or a note that there is none. */
export function tailOf(path: string, lines = 20): string {
  try {
    const text = readFileSync(path, 'utf8').trimEnd();
    return text === '' ? '(the log is empty)' : text.split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${path})`;
  }
}

/**
 * A child process of `muster start`: its output appended to a log file (0600:
 * the server prints its first keys there), in its own process group so a
 * terminal's Ctrl-C reaches only `muster start`, which then stops the
 * children in order.
 */
export class ManagedChild {
  readonly process: ChildProcess;
  /** Settles when the child has exited, with its code or signal. */
  readonly exited: Promise<string>;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    readonly log: string,
  ) {
    const fd = openSync(log, 'a', 0o600);
    try {
      this.process = spawn(command, args, { stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
      this.process.once('error', (e) => resolve(`error: ${e.message}`));
    });
  }

  /** True until the child has exited (false when it never started). */
  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null && this.process.pid !== undefined;
  }

  /** "the server exited (code 1); last lines of …", for when it ended on its own. */
  async deathNotice(): Promise<string> {
    const how = await this.exited;
    return `the ${this.name} exited (${how}); last lines of ${this.log}:\n${tailOf(this.log)}`;
  }

  /** SIGTERM, then SIGKILL if it is still there after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Last resort when `muster start` itself exits abruptly: no waiting possible. */
  killNow(signal: NodeJS.Signals): void {
    if (this.running) this.process.kill(signal);
  }
}

/**
 * Calls `check` every `intervalMs` until it gives a value; fails early with
 * the death notice when one of `children` exits, and after `timeoutMs` with
 * `timeoutMessage()`. A check that throws counts as "not yet".
 */
export async function waitUntil<T>(
  check: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs: number; children: readonly ManagedChild[]; timeoutMessage: () => string },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    const dead = opts.children.find((c) => !c.running);
    if (dead) throw new Error(await dead.deathNotice());
    if (Date.now() >= deadline) throw new Error(opts.timeoutMessage());
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
}
