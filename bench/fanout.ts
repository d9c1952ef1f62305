import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectedSystems, measureFanout, type FanoutFigures } from './measure.js';
import { startRealAgent, type RealAgent } from './real-agents.js';
import { hubCounters, openFds, processTree, startBenchServer, treeCounters, type BenchServer } from './server-child.js';
import { enrollSystems, SimPool } from './sim-pool.js';

/**
 * `npm run bench -- fanout [--sizes 1000,5000,10000] [--idle 10000,50000]
 * [--real 20] [--rounds 1] [--workers 1,2] [--pg URL] [--no-sqlite] [--json]`
 *
 * A real `muster server` child process; N systems enrolled over the real API;
 * simulated agents in separate processes (bench/sim-agents.ts) that speak the
 * real protocol and answer every run at once; then `true` on 20 real agents.
 * PostgreSQL runs too when --pg or MUSTER_BENCH_PG_URL is given. With
 * `--workers`, each database is measured once per worker count in the list
 * (`muster server --workers N`), CPU and memory summed over every process.
 */
interface Options {
  sizes: number[];
  idle: number[];
  real: number;
  rounds: number;
  workers: number[];
  pg: string | undefined;
  sqlite: boolean;
  json: boolean;
}

export interface IdleFigures {
  database: string;
  target: number;
  workers: number;
  /** Sockets open on the agents' side after the upgrade (hello sent). */
  held: number;
  /** The server's own count (muster_agents_connected), or null when /metrics could not be reached (no free fd). */
  serverCounted: number | null;
  serverFds: number;
  refused: number;
  connectSeconds: number;
  serverRssMiB: number;
  serverFdLimit: number;
}

function parseArgs(args: string[]): Options {
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const list = (name: string, def: number[]) => (value(name) === undefined ? def : value(name)!.split(',').filter(Boolean).map(Number));
  return {
    sizes: list('--sizes', [1000, 5000, 10000]),
    idle: list('--idle', [10000, 50000]),
    real: Number(value('--real') ?? 20),
    rounds: Number(value('--rounds') ?? 1),
    workers: list('--workers', [1]),
    pg: value('--pg') ?? process.env.MUSTER_BENCH_PG_URL,
    sqlite: !args.includes('--no-sqlite'),
    json: args.includes('--json'),
  };
}

let quiet = false;
function progress(line: string): void {
  if (!quiet) process.stderr.write(`[fanout ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/**
 * Waits until the server has received `hellos` hello messages and handled
 * them (`connected` systems in its database), then 1 s more: a launch must
 * not queue behind a backlog of hellos.
 */
async function untilHellos(server: BenchServer, hellos: number, connected: number, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await hubCounters(server.url)).hellos < hellos || (await connectedSystems(server)) < connected) {
    if (Date.now() > deadline) throw new Error(`agents not all connected after ${timeoutMs / 1000} s: ${JSON.stringify(await hubCounters(server.url))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 1000));
}

async function realAgents(server: BenchServer, n: number, rounds: number): Promise<FanoutFigures[]> {
  const agents: RealAgent[] = [];
  const { hellos } = await hubCounters(server.url);
  const connected = await connectedSystems(server);
  for (let i = 0; i < n; i += 5)
    agents.push(...(await Promise.all(Array.from({ length: Math.min(5, n - i) }, () => startRealAgent(server.url, server.enrollmentKey)))));
  try {
    await untilHellos(server, hellos + n, connected + n, 60_000);
    const out: FanoutFigures[] = [];
    for (let r = 0; r < rounds; r++) {
      const f = await measureFanout(
        server,
        agents.map((a) => a.systemId),
        `${n} real agents, \`true\`${server.workers > 1 ? `, ${server.workers} workers` : ''}`,
      );
      progress(`${server.database}: ${n} real agents: all stored ${f.allStoredMs.toFixed(0)} ms, run p50 ${f.runP50Ms} ms p99 ${f.runP99Ms} ms`);
      out.push(f);
    }
    return out;
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
  }
}

async function idle(server: BenchServer, pool: SimPool, target: number): Promise<IdleFigures> {
  const t0 = performance.now();
  const sim = await pool.connect(target, 200);
  const connectSeconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 3000));
  const counted = await hubCounters(server.url, 5000).then(
    (c) => c.connected,
    () => null,
  );
  const p = treeCounters(server.pid);
  return {
    database: server.database,
    target,
    workers: server.workers,
    held: sim.open,
    serverCounted: counted,
    serverFds: processTree(server.pid).reduce((sum, pid) => sum + openFds(pid), 0),
    refused: sim.connectFailed,
    connectSeconds,
    serverRssMiB: p.rssBytes / 2 ** 20,
    serverFdLimit: p.fdLimit,
  };
}

async function benchDatabase(database: 'sqlite' | 'postgres', o: Options, workers: number): Promise<{ fanout: FanoutFigures[]; idle: IdleFigures[] }> {
  const server = await startBenchServer(database, o.pg, 'warn', workers);
  const label = workers > 1 ? `, ${workers} workers` : '';
  const dir = mkdtempSync(join(tmpdir(), 'muster-sim-'));
  const fanout: FanoutFigures[] = [];
  const idleFigures: IdleFigures[] = [];
  let pool: SimPool | undefined;
  try {
    const total = Math.max(0, ...o.sizes, ...o.idle);
    progress(`${database}: server pid ${server.pid}; enrolling ${total} systems over POST /agent/v1/enroll`);
    const t0 = performance.now();
    const systems = await enrollSystems(server.url, server.enrollmentKey, total, 32, (d) => progress(`${database}: enrolled ${d}`));
    progress(`${database}: enrolled ${total} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    pool = await SimPool.start(server.url, systems, dir);
    for (const n of o.sizes) {
      const c0 = performance.now();
      await pool.connect(n);
      await untilHellos(server, n, n);
      progress(`${database}: ${n} simulated agents connected in ${((performance.now() - c0) / 1000).toFixed(1)} s`);
      for (let r = 0; r < o.rounds; r++) {
        const f = await measureFanout(
          server,
          systems.slice(0, n).map((s) => s.id),
          `${n} simulated agents${label}`,
          async () => (await pool!.stats()).cpuMs,
        );
        progress(
          `${database}: fan-out ${n}: all stored ${f.allStoredMs.toFixed(0)} ms (launch response ${f.launchResponseMs.toFixed(0)} ms), run p50 ${f.runP50Ms} ms p99 ${f.runP99Ms} ms, server cpu ${f.serverCpuMs} ms${f.dbCpuMs === null ? '' : ` (+ postgres ${f.dbCpuMs} ms)`}, sim cpu ${f.simCpuMs.toFixed(0)} ms`,
        );
        fanout.push(f);
      }
    }
    if (o.real > 0) {
      progress(`${database}: starting ${o.real} real agents`);
      fanout.push(...(await realAgents(server, o.real, Math.max(3, o.rounds))));
    }
    for (const target of o.idle) {
      progress(`${database}: connecting up to ${target} idle agents`);
      const f = await idle(server, pool, target);
      progress(
        `${database}: ${f.held} held (server counts ${f.serverCounted ?? 'unreachable'}, ${f.serverFds} fds; ${f.refused} refused), server RSS ${f.serverRssMiB.toFixed(0)} MiB`,
      );
      idleFigures.push(f);
    }
  } finally {
    await pool?.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { fanout, idle: idleFigures };
}

function table(fanout: FanoutFigures[], idleFigures: IdleFigures[]): string {
  const lines = [
    '| database | what | n | launch response | launch → all stored (polled) | last ended − created | run p50 | run p99 | server CPU | server peak RSS | sim agents CPU |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...fanout.map(
      (f) =>
        `| ${f.database} | ${f.what} | ${f.n} | ${f.launchResponseMs.toFixed(0)} ms | ${f.allStoredMs.toFixed(0)} ms | ${f.serverSpanMs} ms | ${f.runP50Ms} ms | ${f.runP99Ms} ms | ${(f.serverCpuMs / 1000).toFixed(2)} s${f.dbCpuMs === null ? '' : ` (+ ${(f.dbCpuMs / 1000).toFixed(2)} s postgres)`} | ${f.serverPeakRssMiB.toFixed(0)} MiB | ${f.simCpuMs ? `${(f.simCpuMs / 1000).toFixed(2)} s` : '–'} |`,
    ),
    '',
    '| database | workers | idle agents asked | held (agents’ side) | server counts | server fds | refused | time to connect | server RSS | server fd limit (each) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...idleFigures.map(
      (i) =>
        `| ${i.database} | ${i.workers} | ${i.target} | ${i.held} | ${i.serverCounted ?? 'unreachable (no free fd)'} | ${i.serverFds} | ${i.refused} | ${i.connectSeconds.toFixed(1)} s | ${i.serverRssMiB.toFixed(0)} MiB | ${i.serverFdLimit} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** Entry point for `npm run bench -- fanout …`. */
export async function runFanoutBench(args: string[]): Promise<void> {
  const o = parseArgs(args);
  quiet = false;
  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'cpu',
    node: process.version,
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
  progress(`machine: ${machine.cpus} × ${machine.model}, node ${machine.node}, load ${machine.load}`);
  const fanout: FanoutFigures[] = [];
  const idleFigures: IdleFigures[] = [];
  const dbs: Array<'sqlite' | 'postgres'> = [...(o.sqlite ? (['sqlite'] as const) : []), ...(o.pg ? (['postgres'] as const) : [])];
  for (const db of dbs) {
    for (const workers of o.workers) {
      const r = await benchDatabase(db, o, workers);
      fanout.push(...r.fanout);
      idleFigures.push(...r.idle);
    }
  }
  if (!o.pg) progress('postgres: skipped (pass --pg URL or set MUSTER_BENCH_PG_URL)');
  const end = {
    ...machine,
    loadAfter: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
  if (o.json) process.stdout.write(`${JSON.stringify({ machine: end, fanout, idle: idleFigures }, null, 2)}\n`);
  else
    process.stdout.write(
      `\nmachine: ${end.cpus} × ${end.model}, node ${end.node}, load before ${end.load}, after ${end.loadAfter}\n\n${table(fanout, idleFigures)}`,
    );
}
