import { spawn, execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, chownSync, constants, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import type { RunDeliver, RunResult } from '../protocol/messages.js';
import { TailBuffer } from './tail-buffer.js';

type Outcome = RunResult['outcome'];
export type ExecResult = Omit<RunResult, 'v' | 'type'>;
export type StopOutcome = 'cancelled' | 'timed_out';

export interface ExecOptions {
  /** Where the script file goes; created here and removed when the run ends. */
  workDir: string;
  /** The script's whole environment (agent env + job env + MUSTER_*). */
  env: Record<string, string>;
  killGraceMs: number;
  outputCap: number;
  /** Called with live output; may drop it (the result carries the captured tail). */
  onOutput: (stream: 'stdout' | 'stderr', data: Buffer) => void;
  /** Called once the process exists, with its pid (its process group's id too: it runs detached). */
  onStarted: (startedAt: string, pid: number | undefined) => void;
}

/** A running script: its result, and a way to stop it early. */
export interface Execution {
  done: Promise<ExecResult>;
  /** Kills the whole process group (SIGTERM, then SIGKILL after the grace) and reports `outcome`. */
  stop(outcome: StopOutcome, reason: string): void;
}

/** How each shell runs a script file, in order of preference. */
const SHELL_COMMANDS: Record<RunDeliver['shell'], Array<[string, string[]]>> = {
  bash: [['bash', []]],
  sh: [['sh', []]],
  zsh: [['zsh', []]],
  python3: [['python3', []]],
  powershell: [
    ['pwsh', ['-NoProfile', '-NonInteractive', '-File']],
    ['powershell', ['-NoProfile', '-NonInteractive', '-File']],
  ],
};

/** After the script exits, how long a backgrounded child may keep its stdout/stderr open. */
const PIPE_GRACE_MS = 2000;

/** The first executable file called `command` on PATH. */
export function findOnPath(command: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A result for a run that ended without (or before) running its script. */
export function failedResult(runId: string, outcome: Outcome, error: string, startedAt: string | null = null): ExecResult {
  return {
    run_id: runId,
    outcome,
    exit_code: null,
    signal: null,
    started_at: startedAt,
    finished_at: new Date().toISOString(),
    stdout: '',
    stderr: '',
    stdout_truncated: false,
    stderr_truncated: false,
    error,
  };
}

export interface Identity {
  uid: number;
  gid: number;
  env: Record<string, string>;
}

/** Resolves `run_as` to the ids to spawn with; a string is why it cannot be done. */
export function resolveRunAs(name: string | null): Identity | undefined | string {
  if (name === null || name === userInfo().username) return undefined;
  if (process.getuid?.() !== 0) return `the agent is not running as root, so it cannot run as ${name}`;
  try {
    const uid = Number(
      execFileSync('id', ['-u', name], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    );
    const gid = Number(
      execFileSync('id', ['-g', name], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    );
    let home = `/home/${name}`;
    try {
      home =
        execFileSync('getent', ['passwd', name], { stdio: ['ignore', 'pipe', 'ignore'] })
          .toString()
          .split(':')[5] || home;
    } catch {
      // no getent (e.g. macOS): keep the conventional home
    }
    return { uid, gid, env: { HOME: home.trim(), USER: name, LOGNAME: name } };
  } catch {
    return `there is no user ${name} on this machine`;
  }
}

/**
 * Writes the script where its user can read it. The state dir is private to
 * the agent's user (0700), so a script run as another user gets a private
 * temporary folder of its own instead of one under the state dir.
 */
function prepareWorkDir(run: RunDeliver, workDir: string, as: Identity | undefined): string {
  let dir = workDir;
  if (as) {
    dir = mkdtempSync(join(tmpdir(), `muster-run-${run.run_id}-`));
    chownSync(dir, as.uid, as.gid);
  } else {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const script = join(dir, 'script');
  writeFileSync(script, run.content, { mode: 0o700 });
  if (as) chownSync(script, as.uid, as.gid);
  return dir;
}

/**
 * Runs one delivered script in its own process group (detached). The group is
 * what gets killed on timeout or cancel, so children (`sleep 60 &`) die with
 * the script. Expected failures (missing shell, unknown user) are results, not
 * exceptions.
 */
export function execute(run: RunDeliver, options: ExecOptions): Execution {
  const refuse = (error: string): Execution => ({ done: Promise.resolve(failedResult(run.run_id, 'failed_to_start', error)), stop: () => undefined });
  const shell = locateShell(run.shell, options.env.PATH);
  if (!shell) return refuse(`shell ${run.shell} is not installed on this machine`);
  const as = resolveRunAs(run.run_as);
  if (typeof as === 'string') return refuse(as);
  let dir: string;
  try {
    dir = prepareWorkDir(run, options.workDir, as);
  } catch (err) {
    removeQuietly(options.workDir);
    return refuse(`cannot write the script to disk: ${(err as Error).message}`);
  }
  const spawnOptions: SpawnOptions = {
    cwd: dir,
    env: { ...options.env, ...as?.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(as ? { uid: as.uid, gid: as.gid } : {}),
  };
  const [command, args] = shell;
  return supervise(run, spawn(command, [...args, join(dir, 'script')], spawnOptions), { ...options, workDir: dir });
}

/** The shell's executable (absolute path) and its arguments before the script file. */
function locateShell(shell: RunDeliver['shell'], path: string | undefined): [string, string[]] | undefined {
  for (const [command, args] of SHELL_COMMANDS[shell]) {
    const found = findOnPath(command, path);
    if (found) return [found, args];
  }
  return undefined;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

/** Resolves once both pipes have closed, or after PIPE_GRACE_MS (a daemon started by the script may hold them). */
function pipesClosed(child: ChildProcess): Promise<void> {
  const closed = [child.stdout!, child.stderr!].map(
    (s) => new Promise<void>((resolve) => (s.closed || s.destroyed ? resolve() : s.once('close', () => resolve()))),
  );
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, PIPE_GRACE_MS)));
  return Promise.race([Promise.all(closed).then(() => undefined), grace]).finally(() => clearTimeout(timer));
}

/** A script's work dir goes when its run ends; failing to remove it must not lose the result. */
function removeQuietly(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // left for the next start-up, which clears the work root
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the agent killed the group (timeout, cancel, stop). */
  stopped: { outcome: StopOutcome; reason: string } | undefined;
}

function exitResult(runId: string, startedAt: string, exit: Exit, stdout: TailBuffer, stderr: TailBuffer): ExecResult {
  const outcome: Outcome = exit.stopped ? exit.stopped.outcome : exit.signal ? 'signaled' : 'exited';
  return {
    run_id: runId,
    outcome,
    exit_code: exit.code,
    signal: exit.signal,
    started_at: startedAt,
    finished_at: new Date().toISOString(),
    stdout: stdout.text(),
    stderr: stderr.text(),
    stdout_truncated: stdout.truncated,
    stderr_truncated: stderr.truncated,
    error: exit.stopped?.reason ?? (exit.signal ? `killed by ${exit.signal}` : null),
  };
}

function supervise(run: RunDeliver, child: ChildProcess, options: ExecOptions): Execution {
  const startedAt = new Date().toISOString();
  const stdout = new TailBuffer(options.outputCap);
  const stderr = new TailBuffer(options.outputCap);
  let stopped: Exit['stopped'];
  let killTimer: NodeJS.Timeout | undefined;
  let exited = false;

  const stop = (outcome: StopOutcome, reason: string): void => {
    if (stopped || exited) return;
    stopped = { outcome, reason };
    killGroup(child, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), options.killGraceMs);
  };
  const timeout = setTimeout(() => stop('timed_out', `did not finish within ${run.timeout_s} s; its process group was killed`), run.timeout_s * 1000);
  child.stdout!.on('data', (d: Buffer) => (stdout.write(d), options.onOutput('stdout', d)));
  child.stderr!.on('data', (d: Buffer) => (stderr.write(d), options.onOutput('stderr', d)));

  const done = new Promise<ExecResult>((resolve) => {
    const finish = (result: ExecResult): void => {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      removeQuietly(options.workDir);
      resolve(result);
    };
    child.once('error', (err) => {
      if (exited) return;
      exited = true;
      finish(failedResult(run.run_id, 'failed_to_start', `could not start ${run.shell}: ${err.message}`));
    });
    child.once('spawn', () => options.onStarted(startedAt, child.pid));
    child.once('exit', (code, signal) => {
      exited = true;
      clearTimeout(timeout);
      void pipesClosed(child).then(() => {
        // After SIGTERM, nothing of the group may outlive the run.
        if (stopped) killGroup(child, 'SIGKILL');
        child.stdout!.destroy();
        child.stderr!.destroy();
        finish(exitResult(run.run_id, startedAt, { code, signal, stopped }, stdout, stderr));
      });
    });
  });
  return { done, stop };
}
