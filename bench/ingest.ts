import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { createTestDatabase, type TestDatabase } from '../test/support/databases.js';
import { freePort } from '../test/support/processes.js';
import { benchCatalog, benchFacts, benchReport, leaves } from './ingest-payloads.js';
import { BIN, procCounters, serverNodeFlags } from './server-child.js';

/**
 * `npm run bench -- ingest [--nodes N] [--catalog-nodes N] [--concurrency C] [--workers W] [--only sqlite|postgres] [--workload TEXT]`:
 * a real `muster server` child process (so its memory is its own), on SQLite
 * and — when MUSTER_TEST_PG_URL is set — PostgreSQL; 16 concurrent clients
 * POST /pdb/cmd/v1. For each workload: commands accepted per second (all 200s
 * received) and processed per second (until the queue is empty, so everything
 * is queryable), the server's CPU time and disk writes per command, and its
 * peak RSS.
 */
interface Options {
  nodes: number;
  catalogNodes: number;
  concurrency: number;
  workers: number;
  only: string | undefined;
  /** Only the workloads whose name contains this (e.g. "report"). */
  workload: string | undefined;
}

function parseArgs(args: string[]): Options {
  const get = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  return {
    nodes: Number(get('nodes') ?? process.env.BENCH_NODES ?? 5000),
    catalogNodes: Number(get('catalog-nodes') ?? 1000),
    concurrency: Number(get('concurrency') ?? 16),
    workers: Number(get('workers') ?? 2),
    only: get('only'),
    workload: get('workload'),
  };
}

interface Server {
  url: string;
  key: string;
  child: ChildProcess;
}

async function startServer(db: TestDatabase, workers: number): Promise<Server> {
  const port = await freePort();
  const key = `mk_bench_${randomBytes(16).toString('hex')}`;
  const args = [...serverNodeFlags(), BIN, 'server', '--listen', `127.0.0.1:${port}`, '--data-dir', db.dataDir, ...(db.url ? ['--database-url', db.url] : [])];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, MUSTER_BOOTSTRAP_API_KEY: key, MUSTER_LOG_LEVEL: 'warn', MUSTER_INGEST_WORKERS: String(workers), MUSTER_INGEST_POLL_MS: '200' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, key, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the server did not become ready');
}

async function drained(s: Server): Promise<void> {
  for (;;) {
    const res = await fetch(`${s.url}/v1/ingest/counts`, { headers: { authorization: `Bearer ${s.key}` } });
    const c = (await res.json()) as Record<string, number>;
    if (c.queued === 0 && c.processing === 0) {
      if ((c.discarded ?? 0) > 0) throw new Error(`${c.discarded} commands were discarded`);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Workload {
  name: string;
  command: string;
  version: number;
  count: number;
  payload: (i: number) => Record<string, unknown>;
}

/** One POST on a keep-alive connection (node:http costs the client about half of what fetch does, so the figures measure the server). */
function post(agent: Agent, url: URL, path: string, key: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(s: Server, w: Workload, concurrency: number): Promise<{ accepted: number; processed: number }> {
  let next = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(s.url);
  const start = performance.now();
  const client = async () => {
    while (next < w.count) {
      const payload = w.payload(next++);
      const status = await post(
        agent,
        url,
        `/pdb/cmd/v1?command=${w.command}&version=${w.version}&certname=${payload.certname as string}`,
        s.key,
        JSON.stringify(payload),
      );
      if (status !== 200) throw new Error(`${w.name}: HTTP ${status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  agent.destroy();
  const acceptedS = (performance.now() - start) / 1000;
  await drained(s);
  const processedS = (performance.now() - start) / 1000;
  return { accepted: w.count / acceptedS, processed: w.count / processedS };
}

function workloads(o: Options): Workload[] {
  const cert = (i: number) => `node-${String(i).padStart(5, '0')}.example.com`;
  const facts = (round: number) => (i: number) => ({
    certname: cert(i),
    environment: 'production',
    producer_timestamp: new Date(Date.UTC(2026, 10, 23, 10, round)).toISOString(),
    producer: 'puppet.example.com',
    values: benchFacts(cert(i), round),
  });
  return [
    { name: `replace facts, ${o.nodes} new nodes`, command: 'replace_facts', version: 5, count: o.nodes, payload: facts(1) },
    { name: `replace facts, updates of ${o.nodes} nodes`, command: 'replace_facts', version: 5, count: o.nodes, payload: facts(2) },
    { name: `store report, 20 resources, ${o.nodes} nodes`, command: 'store_report', version: 8, count: o.nodes, payload: (i) => benchReport(cert(i), 1, 20) },
    {
      name: `replace catalog, 50 resources, ${o.catalogNodes} nodes`,
      command: 'replace_catalog',
      version: 9,
      count: o.catalogNodes,
      payload: (i) => benchCatalog(cert(i), 1, 50),
    },
  ];
}

/** PuppetDB queries over the ingested nodes, each timed on its own (median of 5), with its row count. */
const QUERIES: Array<[string, string]> = [
  ['facts named os', '/pdb/query/v4/facts?query=["=","name","os"]'],
  ['fact-contents at one path', '/pdb/query/v4/fact-contents?query=["=","path",["os","release","major"]]'],
  ['count of nodes per kernel', '/pdb/query/v4/facts?query=["extract",[["function","count"],"value"],["=","name","kernel"],["group_by","value"]]'],
  ['facts of one node', '/pdb/query/v4/facts?query=["=","certname","node-00042.example.com"]'],
];

async function timeQueries(s: Server, db: string): Promise<void> {
  for (const [what, path] of QUERIES) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      const res = await fetch(`${s.url}${encodeURI(path)}`, { headers: { authorization: `Bearer ${s.key}` } });
      const body = (await res.json()) as unknown[];
      times.push(performance.now() - start);
      if (!res.ok) throw new Error(`${what}: HTTP ${res.status}`);
      rows = body.length;
    }
    times.sort((a, b) => a - b);
    process.stdout.write(`| ${db} | query: ${what} (${rows} rows) | | ${times[2]!.toFixed(0)} ms | | | |\n`);
  }
}

async function benchDatabase(name: 'sqlite' | 'postgres', o: Options): Promise<void> {
  const db = await createTestDatabase(name);
  const s = await startServer(db, o.workers);
  try {
    for (const w of workloads(o).filter((w) => !o.workload || w.name.includes(o.workload))) {
      const before = procCounters(s.child.pid!);
      const r = await run(s, w, o.concurrency);
      const after = procCounters(s.child.pid!);
      const cpuPer = (after.cpuMs - before.cpuMs) / w.count;
      // On PostgreSQL the database server's own processes write, not muster's.
      const written = name === 'sqlite' ? `${((after.diskWriteBytes - before.diskWriteBytes) / w.count / 1024).toFixed(1)} KB` : '—';
      process.stdout.write(
        `| ${name === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${w.name} | ${r.accepted.toFixed(0)} | ${r.processed.toFixed(0)} | ${cpuPer.toFixed(2)} ms | ${written} | ${Math.round(after.hwmBytes / 2 ** 20)} MB |\n`,
      );
    }
    if (!o.workload) await timeQueries(s, name === 'sqlite' ? 'SQLite' : 'PostgreSQL');
  } finally {
    s.child.kill('SIGTERM');
    await new Promise((r) => s.child.once('exit', r));
    await db.drop();
  }
}

/** Entry point for `npm run bench -- ingest …` (dispatched by bench/run.ts). */
export async function runIngestBench(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const f = benchFacts('node-00000.example.com', 1);
  process.stdout.write(
    `ingest benchmark: ${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
      `facts ${leaves(f)} leaves, ${JSON.stringify(f).length} bytes; concurrency ${o.concurrency}; ${o.workers} workers\n\n` +
      '| database | workload | accepted/s | processed/s | server CPU per command | server disk writes per command | server peak RSS |\n|---|---|---|---|---|---|---|\n',
  );
  const targets: Array<'sqlite' | 'postgres'> = ['sqlite', ...(process.env.MUSTER_TEST_PG_URL ? (['postgres'] as const) : [])];
  for (const name of targets.filter((t) => !o.only || t === o.only)) await benchDatabase(name, o);
}
