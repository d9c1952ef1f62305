import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * What the spool records of a running script: its process group (the
 * script is started detached, so the group id is its pid) and the leader's
 * start time, which tells that pid apart from a later process given the
 * same number.
 */
export interface ProcessRecord {
  pid: number;
  /** Start time as the kernel reports it (Linux: /proc/<pid>/stat field 22), or null when unknown. */
  start: string | null;
}

interface ProcStat {
  state: string;
  pgrp: number;
  session: number;
  start: string;
}

/** Fields of /proc/<pid>/stat; undefined without /proc (macOS) or without the process. */
function procStat(pid: number | string): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, pgrp: Number(f[2]), session: Number(f[3]), start: f[19]! };
  } catch {
    return undefined;
  }
}

const HAS_PROC = procStat('self') !== undefined;

/** A process's start time: clock ticks since boot on Linux, `ps`'s lstart elsewhere; undefined when it does not exist. */
export function processStart(pid: number): string | undefined {
  if (HAS_PROC) return procStat(pid)?.start;
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The live processes of the terminal session `sid` (an interactive shell's
 * jobs each get a process group of their own, but all stay in its session);
 * empty without /proc, where only the shell's group can be reached.
 */
export function sessionMembers(sid: number): number[] {
  if (!HAS_PROC) return [];
  return readdirSync('/proc').flatMap((name) => {
    if (!/^\d+$/.test(name)) return [];
    const stat = procStat(name);
    return stat !== undefined && stat.session === sid && stat.state !== 'Z' ? [Number(name)] : [];
  });
}

/** A zombie has ended; only its parent's wait is missing (and an orphan's new parent may never wait). */
function alive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** Whether any live (not zombie) process is in the group. */
function groupExists(pgid: number): boolean {
  if (HAS_PROC) {
    return readdirSync('/proc').some((name) => {
      if (!/^\d+$/.test(name)) return false;
      const stat = procStat(name);
      return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z';
    });
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    // EPERM: a group exists, but not one this agent may signal (so not one it started).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a recorded group is still the one the agent started: yes, ended, or its pid now names another process. */
export type GroupState = 'running' | 'gone' | 'reused';

/**
 * Checks a recorded group. Its leader alive with the recorded start time: it
 * is ours. Leader alive with another start time: the pid was reused, leave it
 * alone (so too when the start time could not be recorded: the agent kills
 * only what it can tell is its own). Leader gone but the group alive: still
 * ours, as the kernel gives no new process a pid that is still some group's id.
 */
export function groupState(record: ProcessRecord): GroupState {
  if (!Number.isInteger(record.pid) || record.pid <= 1) return 'gone';
  const start = processStart(record.pid);
  if (start !== undefined && (!HAS_PROC || alive(record.pid))) return start === record.start ? 'running' : 'reused';
  return groupExists(record.pid) ? 'running' : 'gone';
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone meanwhile
  }
}

/**
 * Stops the process groups a previous agent process left running: SIGTERM at
 * once, SIGKILL after the grace for those still there. `stop()` sends the
 * SIGKILLs at once (the agent is stopping within the grace).
 */
export class OrphanReaper {
  private readonly pending = new Map<number, ProcessRecord>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly graceMs: number) {}

  /** Sends SIGTERM to the group when it is still the agent's; returns what it found. */
  terminate(record: ProcessRecord): GroupState {
    const state = groupState(record);
    if (state !== 'running') return state;
    signalGroup(record.pid, 'SIGTERM');
    this.pending.set(record.pid, record);
    this.timer ??= setTimeout(() => this.killRemaining(), this.graceMs);
    this.timer.unref();
    return state;
  }

  /** Sends SIGKILL to every group still waiting for it. */
  stop(): void {
    this.killRemaining();
  }

  private killRemaining(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    // Checked again: a group that ended on SIGTERM may have had its pid reused since.
    for (const record of this.pending.values()) if (groupState(record) === 'running') signalGroup(record.pid, 'SIGKILL');
    this.pending.clear();
  }
}

/** The sentence a lost run's result carries about the processes its agent's previous life left. */
export function leftoverNote(state: GroupState, record: ProcessRecord, graceMs: number): string {
  switch (state) {
    case 'running':
      return `its script was still running, so the agent stopped it (process group ${record.pid}: SIGTERM, then SIGKILL after ${graceMs / 1000} s)`;
    case 'gone':
      return 'its script had already ended; its exit status is unknown';
    case 'reused':
      return `its script had ended; pid ${record.pid} now belongs to another process, which was left alone`;
  }
}
