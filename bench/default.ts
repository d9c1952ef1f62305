import { cpus, totalmem } from 'node:os';
import { FakeAgent } from '../test/support/fake-agent.js';
import { call, startTestServer } from '../test/support/server.js';

/**
 * `npm run bench` (no argument): the server in this process, N scripted agents over real
 * WebSockets (they answer every delivery at once, so the figures are the
 * control plane's own cost), on SQLite — and PostgreSQL when
 * MUSTER_TEST_PG_URL is set. Prints one line per figure.
 */
const AGENTS = Number(process.env.BENCH_AGENTS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function bench(name: 'sqlite' | 'postgres'): Promise<void> {
  const s = await startTestServer(name);
  const agents: FakeAgent[] = [];
  for (let i = 0; i < AGENTS; i++) agents.push(await FakeAgent.enroll(s.url, s.enrollmentKey, `bench-${i}`));
  for (const a of agents) {
    await a.connect();
    a.socket!.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { type: string; run_id: string };
      if (m.type !== 'run.deliver') return;
      const now = new Date().toISOString();
      a.send({
        type: 'run.result',
        run_id: m.run_id,
        outcome: 'exited',
        exit_code: 0,
        signal: null,
        started_at: now,
        finished_at: now,
        stdout: 'ok\n',
        stderr: '',
        stdout_truncated: false,
        stderr_truncated: false,
        error: null,
      });
    });
  }
  const all = agents.map((a) => a.systemId);

  async function untilDone(jobId: string): Promise<void> {
    for (;;) {
      const { body } = await call(s.url, s.adminKey, 'GET', `/v1/jobs/${jobId}`);
      if (body.done) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  const single: number[] = [];
  for (let i = 0; i < ROUNDS * 5; i++) {
    const t = performance.now();
    const { body } = await call(s.url, s.adminKey, 'POST', '/v1/jobs', { content: 'true', targets: { system_ids: [all[i % all.length]] } });
    await untilDone(body.job.id);
    single.push(performance.now() - t);
  }
  single.sort((a, b) => a - b);

  const fan: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    const { body } = await call(s.url, s.adminKey, 'POST', '/v1/jobs', { content: 'true', targets: { system_ids: all } });
    await untilDone(body.job.id);
    fan.push(performance.now() - t);
  }
  fan.sort((a, b) => a - b);

  const line = (what: string, xs: number[]) =>
    process.stdout.write(
      `${name.padEnd(8)} ${what.padEnd(42)} p50 ${percentile(xs, 50).toFixed(1)} ms  p95 ${percentile(xs, 95).toFixed(1)} ms  (n=${xs.length})\n`,
    );
  line('1 system: launch → result stored', single);
  line(`${AGENTS} systems: launch → all results stored`, fan);
  process.stdout.write(
    `${name.padEnd(8)} ${`${AGENTS}-system fan-out throughput`.padEnd(42)} ${((AGENTS * 1000) / percentile(fan, 50)).toFixed(0)} runs/s at p50\n`,
  );

  for (const a of agents) await a.close();
  await s.stop();
}

/** The default suite: 1-system latency and a 200-system fan-out, in-process. */
export async function runDefaultBench(): Promise<void> {
  process.stdout.write(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}\n`);
  await bench('sqlite');
  if (process.env.MUSTER_TEST_PG_URL) await bench('postgres');
  else process.stdout.write('postgres: skipped (set MUSTER_TEST_PG_URL)\n');
}
