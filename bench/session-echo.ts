import { once } from 'node:events';
import WebSocket from 'ws';
import { call } from '../test/support/server.js';
import { startRealAgent } from './real-agents.js';
import { startBenchServer, type BenchServer } from './server-child.js';

/**
 * `npm run bench -- session-echo [--keystrokes N] [--concurrent N] [--postgres URL]`:
 * the keystroke echo round trip of a jump session on loopback — viewer →
 * server → agent → PTY → `cat` → back — one keystroke at a time, each sent
 * when the previous one's echo arrived; then `--concurrent` sessions on the
 * same agent, each echoing once a second for 10 s.
 */

/** One attached viewer, reading what the terminal prints. */
class Viewer {
  private text = '';
  private waiter: { re: string; resolve: () => void } | undefined;
  readonly ws: WebSocket;

  constructor(server: BenchServer, sessionId: string) {
    this.ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/v1/sessions/${sessionId}/attach`, {
      headers: { authorization: `Bearer ${server.adminKey}` },
    });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      this.text += data.toString();
      if (this.waiter && this.text.includes(this.waiter.re)) {
        const w = this.waiter;
        this.waiter = undefined;
        this.text = '';
        w.resolve();
      }
    });
  }

  /** Resolves once the output so far contains `text` (then forgets it). */
  until(text: string): Promise<void> {
    if (this.text.includes(text)) {
      this.text = '';
      return Promise.resolve();
    }
    return new Promise((resolve) => (this.waiter = { re: text, resolve }));
  }

  send(text: string): void {
    this.ws.send(Buffer.from(text), { binary: true });
  }
}

async function openEcho(server: BenchServer, systemId: string): Promise<Viewer> {
  const opened = await call(server.url, server.adminKey, 'POST', '/v1/sessions', { system_id: systemId });
  if (opened.status !== 201) throw new Error(`open: ${opened.status} ${opened.text}`);
  const viewer = new Viewer(server, opened.body.id);
  await once(viewer.ws, 'open');
  // The terminal in raw mode with cat echoing: every byte goes through the shell's program, not only the tty driver.
  viewer.send("stty raw -echo; printf 'READ''Y\\n'; exec cat\n");
  await viewer.until('READY');
  return viewer;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ms = (ns: bigint) => Number(ns) / 1e6;

async function echoLatencies(viewer: Viewer, n: number): Promise<number[]> {
  const latencies: number[] = [];
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < n; i++) {
    const key = alphabet[i % alphabet.length]!;
    const start = process.hrtime.bigint();
    const echoed = viewer.until(key);
    viewer.send(key);
    await echoed;
    latencies.push(ms(process.hrtime.bigint() - start));
  }
  return latencies.sort((a, b) => a - b);
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function runSessionEchoBench(args: string[]): Promise<void> {
  const keystrokes = Number(option(args, '--keystrokes') ?? 10_000);
  const concurrent = Number(option(args, '--concurrent') ?? 0);
  const pg = option(args, '--postgres');
  const server = await startBenchServer(pg ? 'postgres' : 'sqlite', pg);
  const agent = await startRealAgent(server.url, server.enrollmentKey);
  try {
    for (let i = 0; ; i++) {
      const { body } = await call(server.url, server.adminKey, 'GET', `/v1/systems/${agent.systemId}`);
      if (body?.connected) break;
      if (i > 300) throw new Error('the agent did not connect');
      await new Promise((r) => setTimeout(r, 100));
    }
    const viewer = await openEcho(server, agent.systemId);
    await echoLatencies(viewer, 200); // warm-up
    const sorted = await echoLatencies(viewer, keystrokes);
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    process.stdout.write(
      `${JSON.stringify({ bench: 'session-echo', database: server.database, keystrokes, p50_ms: +percentile(sorted, 50).toFixed(3), p99_ms: +percentile(sorted, 99).toFixed(3), max_ms: +sorted.at(-1)!.toFixed(3), mean_ms: +mean.toFixed(3) })}\n`,
    );
    viewer.ws.close();
    if (concurrent > 0) await concurrentEcho(server, agent.systemId, concurrent);
  } finally {
    await agent.stop();
    await server.stop();
  }
}

/** `n` sessions, each echoing one keystroke a second for 10 s (staggered over the second). */
async function concurrentEcho(server: BenchServer, systemId: string, n: number): Promise<void> {
  const viewers: Viewer[] = [];
  for (let i = 0; i < n; i++) viewers.push(await openEcho(server, systemId));
  const latencies: number[] = [];
  await Promise.all(
    viewers.map(async (v, i) => {
      await new Promise((r) => setTimeout(r, (1000 * i) / n));
      for (let round = 0; round < 10; round++) {
        const next = new Promise((r) => setTimeout(r, 1000));
        latencies.push(...(await echoLatencies(v, 1)));
        await next;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({ bench: 'session-echo-concurrent', database: server.database, sessions: n, echoes: latencies.length, p50_ms: +percentile(latencies, 50).toFixed(3), p99_ms: +percentile(latencies, 99).toFixed(3), max_ms: +latencies.at(-1)!.toFixed(3) })}\n`,
  );
  for (const v of viewers) v.ws.close();
}
