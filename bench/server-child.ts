import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { launcherNodeFlags } from '../src/lib/launcher.js';
import { freePort } from '../test/support/processes.js';

/** The repository root, from bench/ (tsx) or dist/bench/ (built). */
export const ROOT = [join(import.meta.dirname, '..'), join(import.meta.dirname, '..', '..')].find((d) => existsSync(join(d, 'bin', 'muster.js')))!;
export const BIN = join(ROOT, 'bin', 'muster.js');

/**
 * A real `muster server` as a child process for the benchmarks, with its fd
 * limit raised to the hard limit (`ulimit -n $(ulimit -Hn)` in a shell that
 * then execs node, so the pid is the server's own), and readings of its
 * /proc counters: CPU time (utime+stime) and resident memory (VmRSS, VmHWM).
 */
export interface BenchServer {
  url: string;
  pid: number;
  adminKey: string;
  enrollmentKey: string;
  database: 'sqlite' | 'postgres';
  dataDir: string;
  /** The scratch PostgreSQL database URL, when on PostgreSQL. */
  pgUrl: string | undefined;
  /** Worker processes (`--workers`): `pid` is their primary, and CPU and memory are summed over all (treeCounters). */
  workers: number;
  stderr(): string;
  stop(): Promise<void>;
}

export interface ProcCounters {
  cpuMs: number;
  rssBytes: number;
  hwmBytes: number;
  fdLimit: number;
  /** Bytes the process caused to be written to storage (/proc/PID/io write_bytes): WAL, checkpoints, files. */
  diskWriteBytes: number;
}

const TICK_MS = 10; // CLK_TCK is 100 on Linux

/** CPU time, memory and disk writes of a process, from /proc. */
export function procCounters(pid: number): ProcCounters {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const cpuMs = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const fdLimit = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1] ?? 0);
  const diskWriteBytes = Number(/^write_bytes:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
  return { cpuMs, rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM'), fdLimit, diskWriteBytes };
}

/** A process and its descendants (the workers of `muster server --workers N`), from /proc. */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(parents.get(out[i]!) ?? []));
  return out;
}

/** procCounters summed over a process and its descendants (the fd limit is the first one's). */
export function treeCounters(pid: number): ProcCounters {
  const all = processTree(pid).map((p) => {
    try {
      return procCounters(p);
    } catch {
      return { cpuMs: 0, rssBytes: 0, hwmBytes: 0, fdLimit: 0, diskWriteBytes: 0 };
    }
  });
  return all.reduce((sum, c) => ({
    cpuMs: sum.cpuMs + c.cpuMs,
    rssBytes: sum.rssBytes + c.rssBytes,
    hwmBytes: sum.hwmBytes + c.hwmBytes,
    fdLimit: sum.fdLimit,
    diskWriteBytes: sum.diskWriteBytes + c.diskWriteBytes,
  }));
}

/** How many file descriptors a process holds (its sockets, mostly). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resets a process's peak RSS (VmHWM) to its current RSS; false where the kernel refuses. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function scratchPg(base: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `muster_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function untilHealthy(url: string, child: ChildProcess, err: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${err()}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not become ready:\n${err()}`);
}

/**
 * The Node flags a benchmark's server runs with: the executable's own (as its
 * shebang runs it, src/lib/launcher.ts), then MUSTER_BENCH_SERVER_NODE_ARGS,
 * extra flags for the server only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */
export function serverNodeFlags(): string[] {
  return [...launcherNodeFlags(BIN), ...(process.env.MUSTER_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
}

/** Starts `muster server` on a fresh SQLite data dir, or on a scratch database created on `pgBase`. */
export async function startBenchServer(database: 'sqlite' | 'postgres', pgBase?: string, logLevel = 'warn', workers = 1): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'muster-bench-'));
  const scratch = database === 'postgres' ? await scratchPg(pgBase!) : undefined;
  const port = await freePort();
  const adminKey = `mk_bench_${randomBytes(16).toString('hex')}`;
  const enrollmentKey = `mek_bench_${randomBytes(16).toString('hex')}`;
  const args = [
    BIN,
    'server',
    '--listen',
    `127.0.0.1:${port}`,
    '--data-dir',
    dataDir,
    ...(scratch ? ['--database-url', scratch.url] : []),
    '--workers',
    String(workers),
  ];
  const env = {
    ...process.env,
    MUSTER_BOOTSTRAP_API_KEY: adminKey,
    MUSTER_BOOTSTRAP_ENROLLMENT_KEY: enrollmentKey,
    MUSTER_LOG_LEVEL: logLevel,
    MUSTER_PG_POOL_SIZE: '10',
  };
  const child = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec "$@"', 'sh', process.execPath, ...serverNodeFlags(), ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  await untilHealthy(url, child, () => stderr);
  return {
    url,
    pid: child.pid!,
    adminKey,
    enrollmentKey,
    database,
    dataDir,
    pgUrl: scratch?.url,
    workers,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      await scratch?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The server's own counters from /metrics: agents connected and hellos received. */
export async function hubCounters(url: string, timeoutMs = 30_000): Promise<{ connected: number; hellos: number }> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })).text();
  const connected = Number(/^muster_agents_connected (\d+)/m.exec(text)?.[1] ?? 0);
  const hellos = Number(/^muster_agent_messages_total\{type="hello"\} (\d+)/m.exec(text)?.[1] ?? 0);
  return { connected, hellos };
}
