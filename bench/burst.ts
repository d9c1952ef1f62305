import { generateKeyPairSync } from 'node:crypto';
import { Agent, request } from 'node:http';
import { startBenchServer, type BenchServer } from './server-child.js';

/**
 * `npm run bench -- burst [--calls N] [--only sqlite|postgres] [--rate-limit-max M]`:
 * how long a viewer's `GET /v1/whoami` takes while N trigger calls (default
 * 1,000) arrive at once with one operator key. Each call launches a job on one
 * (offline) system, so every call writes. The viewer asks back to back, one
 * request at a time over one open connection, from the burst's start to its
 * end; the report gives the burst's duration, its answers by status, and the
 * viewer's latencies. Rate limits are off unless `--rate-limit-max` is given,
 * so the figure is the read path's, not the limiter's.
 */
export async function runBurstBench(args: string[]): Promise<void> {
  const get = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const calls = Number(get('calls') ?? 1000);
  const only = get('only');
  const rateLimitMax = get('rate-limit-max') ?? '0';
  const databases = (['sqlite', 'postgres'] as const).filter((d) => (only ? d === only : d === 'sqlite' || process.env.MUSTER_TEST_PG_URL));
  for (const database of databases) {
    process.env.MUSTER_RATE_LIMIT_MAX = rateLimitMax;
    const s = await startBenchServer(database, process.env.MUSTER_TEST_PG_URL);
    try {
      process.stdout.write(`${database}: ${report(await burst(s, calls))}\n`);
    } finally {
      await s.stop();
    }
  }
}

interface BurstResult {
  calls: number;
  burstMs: number;
  statuses: Record<string, number>;
  whoami: number[];
}

async function api(s: BenchServer, key: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function burst(s: BenchServer, calls: number): Promise<BurstResult> {
  const operator = (await api(s, s.adminKey, 'POST', '/v1/api-keys', { name: 'burst', role: 'operator' })).secret as string;
  const viewer = (await api(s, s.adminKey, 'POST', '/v1/api-keys', { name: 'reader', role: 'viewer' })).secret as string;
  const publicKey = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' });
  const enrolled = await fetch(`${s.url}/agent/v1/enroll`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.enrollmentKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      public_key: publicKey,
      facts: { hostname: 'burst-1', os: 'linux', os_release: 'bench', arch: 'x64', ip_addresses: ['10.0.0.1'], agent_version: '0.0.0' },
    }),
  });
  const systemId = ((await enrolled.json()) as { system_id: string }).system_id;
  await api(s, s.adminKey, 'POST', '/v1/commands', {
    name: 'on-burst',
    content: 'true',
    launch_type: 'trigger',
    trigger: 'burst',
    default_targets: { system_ids: [systemId] },
  });

  // One socket per call, as many independent clients would open; the viewer has its own.
  const burstAgent = new Agent({ keepAlive: true, maxSockets: calls });
  const viewerAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  // The viewer's connection is open before the burst, as a client's keep-alive connection would be:
  // new connections queue in the listen backlog behind the burst's, which measures TCP, not muster.
  await send(s.url, viewerAgent, 'GET', '/v1/whoami', viewer);
  const statuses: Record<string, number> = {};
  let done = false;
  const started = performance.now();
  const all = Promise.all(
    Array.from({ length: calls }, async (_, i) => {
      const status = await send(s.url, burstAgent, 'POST', '/v1/triggers/burst/fire', operator, JSON.stringify({ N: String(i) })).catch(
        (err: Error) => err.message,
      );
      statuses[status] = (statuses[status] ?? 0) + 1;
    }),
  ).then(() => (done = true));
  const whoami: number[] = [];
  while (!done) {
    const t = performance.now();
    const status = await send(s.url, viewerAgent, 'GET', '/v1/whoami', viewer);
    if (status !== 200) throw new Error(`whoami answered ${status}`);
    whoami.push(performance.now() - t);
  }
  await all;
  const burstMs = performance.now() - started;
  burstAgent.destroy();
  viewerAgent.destroy();
  return { calls, burstMs, statuses, whoami };
}

/** One request over `agent`; resolves with the status once the answer is read. */
function send(base: string, agent: Agent, method: string, path: string, key: string, body?: string): Promise<number | string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method,
        agent,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function report(r: BurstResult): string {
  const sorted = [...r.whoami].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(0);
  return (
    `${r.calls} trigger calls in ${(r.burstMs / 1000).toFixed(1)} s (${JSON.stringify(r.statuses)}); ` +
    `/v1/whoami ×${sorted.length}: median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`
  );
}
