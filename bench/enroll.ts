import { generateKeyPairSync } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { procCounters, startBenchServer } from './server-child.js';

/**
 * `npm run bench -- enroll [--count 5000] [--concurrency 64] [--rounds 3] [--pg URL] [--no-sqlite]`
 *
 * Enrollment rate: a real `muster server` child process, and `count` new
 * machines enrolling at once over `POST /agent/v1/enroll` with the bootstrap
 * enrollment key, `concurrency` requests in flight (keep-alive). The Ed25519
 * key pairs are made before the clock starts, so the figure is the server's:
 * systems per second until the last 201, and the server's CPU per enrollment.
 * Each round enrolls `count` more systems into the same database.
 */
interface Options {
  count: number;
  concurrency: number;
  rounds: number;
  pg: string | undefined;
  sqlite: boolean;
}

function parseArgs(args: string[]): Options {
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  return {
    count: Number(value('--count') ?? 5000),
    concurrency: Number(value('--concurrency') ?? 64),
    rounds: Number(value('--rounds') ?? 3),
    pg: value('--pg') ?? process.env.MUSTER_BENCH_PG_URL,
    sqlite: !args.includes('--no-sqlite'),
  };
}

function bodies(count: number, round: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const { publicKey } = generateKeyPairSync('ed25519');
    return JSON.stringify({
      public_key: publicKey.export({ type: 'spki', format: 'pem' }),
      facts: {
        hostname: `enroll-${round}-${i}`,
        os: 'linux',
        os_release: 'Bench OS 1',
        arch: 'x64',
        ip_addresses: ['127.0.0.1'],
        agent_version: '0.0.0-bench',
      },
    });
  });
}

async function enrollAll(url: string, key: string, payloads: string[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < payloads.length) {
      const body = payloads[next++]!;
      const res = await fetch(`${url}/agent/v1/enroll`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      const text = await res.text();
      if (res.status !== 201) throw new Error(`enroll failed: ${res.status} ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Entry point for `npm run bench -- enroll …`. */
export async function runEnrollBench(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  process.stderr.write(`[enroll] machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load ${load()}\n`);
  const lines = ['| database | round | systems | concurrency | time | systems/s | server CPU per enrollment |', '|---|---|---|---|---|---|---|'];
  const dbs: Array<'sqlite' | 'postgres'> = [...(o.sqlite ? (['sqlite'] as const) : []), ...(o.pg ? (['postgres'] as const) : [])];
  for (const db of dbs) {
    const server = await startBenchServer(db, o.pg);
    try {
      for (let r = 1; r <= o.rounds; r++) {
        const payloads = bodies(o.count, r);
        const before = procCounters(server.pid);
        const t0 = performance.now();
        await enrollAll(server.url, server.enrollmentKey, payloads, o.concurrency);
        const seconds = (performance.now() - t0) / 1000;
        const cpuMs = procCounters(server.pid).cpuMs - before.cpuMs;
        const rate = o.count / seconds;
        process.stderr.write(
          `[enroll] ${db} round ${r}: ${o.count} in ${seconds.toFixed(2)} s = ${rate.toFixed(0)}/s, server cpu ${((cpuMs * 1000) / o.count).toFixed(0)} µs each, load ${load()}\n`,
        );
        lines.push(
          `| ${db} | ${r} | ${o.count} | ${o.concurrency} | ${seconds.toFixed(2)} s | ${rate.toFixed(0)} | ${((cpuMs * 1000) / o.count).toFixed(0)} µs |`,
        );
      }
    } finally {
      await server.stop();
    }
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
}
