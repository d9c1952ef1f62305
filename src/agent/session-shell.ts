import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Identity } from './executor.js';
import { sessionMembers } from './orphans.js';

/** A session's shell, PTY-backed or pipe-backed, as the session manager drives it. */
export interface SessionShell {
  /** True for a real terminal; false for the pipe fallback (no resize, no job control). */
  readonly pty: boolean;
  /** Why the shell is not a real terminal, when it is not. */
  readonly notice: string | null;
  readonly pid: number;
  write(data: Buffer): void;
  resize(cols: number, rows: number): void;
  /** Stops reading output (the shell blocks once the kernel's buffer fills). */
  pause(): void;
  resume(): void;
  /** SIGHUP to the shell's whole process group, SIGKILL after `graceMs` if it is still there. */
  kill(graceMs: number): void;
  onData(listener: (data: Buffer) => void): void;
  /** Once, when the shell's process has exited. */
  onExit(listener: (exitCode: number | null, signal: string | null) => void): void;
}

export interface ShellOptions {
  cols: number;
  rows: number;
  env: Record<string, string>;
  /** The system user to run as; undefined: the agent's own. */
  as: Identity | undefined;
  cwd: string;
}

/** The subset of node-pty the agent uses. */
interface PtyModule {
  spawn(
    file: string,
    args: string[],
    options: Record<string, unknown>,
  ): {
    pid: number;
    write(data: string | Buffer): void;
    resize(cols: number, rows: number): void;
    pause(): void;
    resume(): void;
    onData(listener: (data: string | Buffer) => void): unknown;
    onExit(listener: (e: { exitCode: number; signal?: number }) => void): unknown;
  };
}

export type PtyLoader = () => Promise<PtyModule>;

let loaded: Promise<PtyModule | string> | undefined;

/**
 * node-pty, loaded on the first session only (it is an optional dependency
 * with a native addon: a machine without a build of it still runs jobs), or
 * the reason it cannot be loaded.
 */
export function loadPty(loader?: PtyLoader): Promise<PtyModule | string> {
  const attempt = (load: PtyLoader) =>
    load().then(
      (m) => m,
      (err: unknown) =>
        `node-pty cannot be loaded here (${(err as Error).message.split('\n')[0]}); this is a pipe-based shell: no terminal, no resize, no job control`,
    );
  if (loader) return attempt(loader);
  loaded ??= attempt(async () => (await import('node-pty')) as unknown as PtyModule);
  return loaded;
}

/** bash where there is one, sh otherwise. */
export function shellPath(): string {
  return existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh';
}

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 9: 'SIGKILL', 15: 'SIGTERM' };

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already.
  }
}

/**
 * Hangs up on a shell: SIGHUP to its process group, then SIGKILL to the
 * group and to every process still in its terminal session (a job-control
 * shell puts each job in a group of its own; `trap '' HUP` or `nohup` would
 * otherwise leave them running after the session ended).
 */
export function hangUp(pid: number, graceMs: number): void {
  const members = sessionMembers(pid);
  signal(-pid, 'SIGHUP');
  for (const member of members) signal(member, 'SIGHUP');
  setTimeout(() => {
    signal(-pid, 'SIGKILL');
    for (const member of new Set([...members, ...sessionMembers(pid)])) signal(member, 'SIGKILL');
  }, graceMs).unref();
}

/** Starts a shell on a PTY, or on pipes when `pty` is the reason node-pty is unavailable. */
export function startShell(pty: PtyModule | string, options: ShellOptions): SessionShell {
  return typeof pty === 'string' ? pipeShell(pty, options) : ptyShell(pty, options);
}

function ptyShell(pty: PtyModule, o: ShellOptions): SessionShell {
  const proc = pty.spawn(shellPath(), ['-l'], {
    name: 'xterm-256color',
    cols: o.cols,
    rows: o.rows,
    cwd: o.cwd,
    env: o.env,
    // Bytes, not strings: a UTF-8 character split across two reads must reach the viewer intact.
    encoding: null,
    ...(o.as ? { uid: o.as.uid, gid: o.as.gid } : {}),
  });
  let exited = false;
  const exitListeners: Array<(code: number | null, signal: string | null) => void> = [];
  proc.onExit(({ exitCode, signal }) => {
    exited = true;
    const name = signal ? (SIGNALS[signal] ?? `SIG${signal}`) : null;
    for (const l of exitListeners) l(name ? null : exitCode, name);
  });
  return {
    pty: true,
    notice: null,
    pid: proc.pid,
    write: (data) => proc.write(data),
    resize: (cols, rows) => {
      if (!exited) proc.resize(cols, rows);
    },
    pause: () => proc.pause(),
    resume: () => proc.resume(),
    kill: (graceMs) => hangUp(proc.pid, graceMs),
    onData: (listener) => void proc.onData((d) => listener(typeof d === 'string' ? Buffer.from(d) : d)),
    onExit: (listener) => void exitListeners.push(listener),
  };
}

function pipeShell(notice: string, o: ShellOptions): SessionShell {
  // Its own process group (detached), so ending the session reaches whatever the shell started.
  const child = spawn(shellPath(), ['-i'], {
    cwd: o.cwd,
    env: o.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(o.as ? { uid: o.as.uid, gid: o.as.gid } : {}),
  });
  let exited = false;
  const dataListeners: Array<(data: Buffer) => void> = [];
  const forward = (d: Buffer): void => {
    for (const l of dataListeners) l(d);
  };
  child.stdout.on('data', forward);
  child.stderr.on('data', forward);
  child.stdin.on('error', () => undefined);
  const exitListeners: Array<(code: number | null, signal: string | null) => void> = [];
  child.on('error', () => undefined);
  child.on('close', (code, signal) => {
    exited = true;
    for (const l of exitListeners) l(code, signal);
  });
  return {
    pty: false,
    notice,
    pid: child.pid ?? -1,
    write: (data) => {
      if (!exited) child.stdin.write(data);
    },
    resize: () => undefined,
    pause: () => (child.stdout.pause(), child.stderr.pause()),
    resume: () => (child.stdout.resume(), child.stderr.resume()),
    kill: (graceMs) => {
      if (child.pid !== undefined) hangUp(child.pid, graceMs);
    },
    onData: (listener) => void dataListeners.push(listener),
    onExit: (listener) => void exitListeners.push(listener),
  };
}
