import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { call } from '../test/support/server.js';
import { processTree, procCounters, resetPeak, treeCounters, type BenchServer } from './server-child.js';

/** One fan-out: a job to `n` systems whose agents answer at once. */
export interface FanoutFigures {
  database: string;
  what: string;
  n: number;
  /** `POST /v1/jobs` → its 201 (the response lists every run). */
  launchResponseMs: number;
  /** `POST /v1/jobs` sent → `GET /v1/jobs/{id}` says done (polled every POLL_MS). */
  allStoredMs: number;
  /** In the database: the last run's ended_at − the job's created_at. */
  serverSpanMs: number;
  runP50Ms: number;
  runP99Ms: number;
  serverCpuMs: number;
  serverPeakRssMiB: number;
  succeeded: number;
  /** CPU time of the simulated agents' processes during the fan-out (they share the 2 cores). */
  simCpuMs: number;
  /** PostgreSQL only: CPU time of the server's database backends (the work SQLite does inside the server process). */
  dbCpuMs: number | null;
}

/** CPU time of each PostgreSQL backend serving the server's scratch database, by pid; null on SQLite. */
async function pgBackendCpu(server: BenchServer): Promise<Map<number, number> | null> {
  if (!server.pgUrl) return null;
  const name = new URL(server.pgUrl).pathname.slice(1);
  const rows = await readDb<{ pid: number }>(server, 'select pid from pg_stat_activity where datname = ? and pid <> pg_backend_pid()', [name]);
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      out.set(pid, procCounters(pid).cpuMs);
    } catch {
      // the backend exited meanwhile
    }
  }
  return out;
}

/** CPU the backends used between two readings (a backend that exited in between is not counted: an underestimate). */
function backendDelta(before: Map<number, number> | null, after: Map<number, number> | null): number | null {
  if (!before || !after) return null;
  let ms = 0;
  for (const [pid, cpu] of after) ms += cpu - (before.get(pid) ?? 0);
  return ms;
}

/** Polling the job costs the server a count over its runs; every 50 ms keeps that under ~2 % of its CPU. */
const POLL_MS = 50;

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs one read-only query against the server's database (the API has no such figure). */
async function readDb<T>(server: BenchServer, text: string, params: unknown[]): Promise<T[]> {
  if (server.pgUrl) {
    const c = new pg.Client({ connectionString: server.pgUrl });
    await c.connect();
    try {
      let n = 0;
      return (
        await c.query(
          text.replaceAll('?', () => `$${++n}`),
          params,
        )
      ).rows as T[];
    } finally {
      await c.end();
    }
  }
  const db = new BetterSqlite3(join(server.dataDir, 'muster.db'), { readonly: true });
  try {
    return db.prepare(text).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** How many systems the server has marked connected: it has handled their hello, not only received it. */
export async function connectedSystems(server: BenchServer): Promise<number> {
  const [row] = await readDb<{ n: number | string }>(server, 'select count(*) as n from systems where connected = ?', [1]);
  return Number(row?.n ?? 0);
}

/**
 * Per-run latency (run created → result stored) from the runs' own timestamps,
 * read straight from the database after the job is done (read-only; the API
 * does not expose ended_at).
 */
async function runLatencies(server: BenchServer, jobId: string): Promise<number[]> {
  const rows = await readDb<{ created_at: string; ended_at: string | null }>(server, 'select created_at, ended_at from runs where job_id = ?', [jobId]);
  return rows.map((r) => (r.ended_at ? Date.parse(r.ended_at) - Date.parse(r.created_at) : NaN)).sort((a, b) => a - b);
}

/** Launches `true` on `systemIds` and waits until every result is stored. */
export async function measureFanout(
  server: BenchServer,
  systemIds: string[],
  what: string,
  simCpuMs: () => Promise<number> = async () => 0,
): Promise<FanoutFigures> {
  const simBefore = await simCpuMs();
  const dbBefore = await pgBackendCpu(server);
  const peakReset = processTree(server.pid).every(resetPeak);
  const before = treeCounters(server.pid);
  const t0 = performance.now();
  const launched = await call(server.url, server.adminKey, 'POST', '/v1/jobs', { content: 'true', targets: { system_ids: systemIds }, ttl_s: 600 });
  const launchResponseMs = performance.now() - t0;
  if (launched.status !== 201) throw new Error(`launch failed: ${launched.status} ${launched.text.slice(0, 500)}`);
  const jobId = launched.body.job.id as string;
  let job: { done: boolean; counts: Record<string, number> };
  for (;;) {
    job = (await call(server.url, server.adminKey, 'GET', `/v1/jobs/${jobId}`)).body;
    if (job.done) break;
    if (performance.now() - t0 > 120_000) throw new Error(`job ${jobId} not done after 120 s: ${JSON.stringify(job.counts)}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const allStoredMs = performance.now() - t0;
  const after = treeCounters(server.pid);
  const simAfter = await simCpuMs();
  const dbAfter = await pgBackendCpu(server);
  const lat = await runLatencies(server, jobId);
  return {
    database: server.database,
    what,
    n: systemIds.length,
    launchResponseMs,
    allStoredMs,
    serverSpanMs: lat[lat.length - 1] ?? NaN,
    runP50Ms: percentile(lat, 50),
    runP99Ms: percentile(lat, 99),
    serverCpuMs: after.cpuMs - before.cpuMs,
    serverPeakRssMiB: (peakReset ? after.hwmBytes : Math.max(after.hwmBytes, before.hwmBytes)) / 2 ** 20,
    succeeded: job.counts.succeeded ?? 0,
    simCpuMs: simAfter - simBefore,
    dbCpuMs: backendDelta(dbBefore, dbAfter),
  };
}
