import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimCommand, SimStats, SimSystem } from './sim-agents.js';

/**
 * Simulated systems: enrolled over the real API (POST /agent/v1/enroll with the
 * enrollment key, an Ed25519 key each), then held by one or more sim-agents
 * processes. A process can hold at most ~`PER_PROCESS` sockets: the hard fd
 * limit here is 20,000 per process and cannot be raised without
 * CAP_SYS_RESOURCE.
 */
export const PER_PROCESS = 15_000;
/** Agents per loopback source address (127.0.0.2, .3, …): each (source, server) pair has ~28k ephemeral ports. */
export const PER_ADDRESS = 10_000;

/** Enrolls `count` systems over HTTP, `concurrency` requests at a time; reports progress. */
export async function enrollSystems(
  url: string,
  enrollmentKey: string,
  count: number,
  concurrency: number,
  progress: (done: number) => void,
): Promise<SimSystem[]> {
  const out: SimSystem[] = new Array(count);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const res = await fetch(`${url}/agent/v1/enroll`, {
        method: 'POST',
        headers: { authorization: `Bearer ${enrollmentKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          public_key: publicKey.export({ type: 'spki', format: 'pem' }),
          facts: { hostname: `sim-${i}`, os: 'linux', os_release: 'Bench OS 1', arch: 'x64', ip_addresses: ['127.0.0.1'], agent_version: '0.0.0-bench' },
        }),
      });
      const body = (await res.json()) as { system_id?: string };
      if (res.status !== 201 || !body.system_id) throw new Error(`enroll ${i} failed: ${res.status} ${JSON.stringify(body)}`);
      out[i] = { id: body.system_id, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
      if (++done % 1000 === 0) progress(done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

class SimProcess {
  private waiting: Array<(m: { type: string; stats?: SimStats }) => void> = [];

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: { type: string; stats?: SimStats }) => this.waiting.shift()?.(m));
  }

  request(cmd: SimCommand): Promise<{ type: string; stats?: SimStats }> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.send(cmd);
    });
  }
}

/** The sim-agents processes holding `systems`, split into slices of PER_PROCESS. */
export class SimPool {
  private readonly procs: SimProcess[] = [];

  private constructor(private readonly sizes: number[]) {}

  static async start(url: string, systems: SimSystem[], dir: string): Promise<SimPool> {
    const sizes: number[] = [];
    for (let i = 0; i < systems.length; i += PER_PROCESS) sizes.push(Math.min(PER_PROCESS, systems.length - i));
    const pool = new SimPool(sizes);
    for (let p = 0; p < sizes.length; p++) {
      const file = join(dir, `sim-${p}.json`);
      writeFileSync(file, JSON.stringify(systems.slice(p * PER_PROCESS, p * PER_PROCESS + sizes[p]!)));
      const proc = new SimProcess(fork(join(import.meta.dirname, 'sim-agents.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
      // Each process starts on its own run of source addresses.
      await proc.request({ type: 'init', url, file, firstAddress: 2 + p * Math.ceil(PER_PROCESS / PER_ADDRESS), perAddress: PER_ADDRESS });
      pool.procs.push(proc);
    }
    return pool;
  }

  /**
   * Connects agents until `total` are open, filling the processes in order;
   * stops at the first process that saw connections refused (the server's limit).
   */
  async connect(total: number, concurrency = 100): Promise<SimStats> {
    let left = total;
    for (let i = 0; i < this.procs.length && left > 0; i++) {
      const upTo = Math.min(this.sizes[i]!, left);
      left -= upTo;
      const { stats } = await this.procs[i]!.request({ type: 'connect', upTo, concurrency });
      if (stats!.connectFailed > 0) break;
    }
    return this.stats();
  }

  /** Counters summed over the processes. */
  async stats(): Promise<SimStats> {
    const all = await Promise.all(this.procs.map((p) => p.request({ type: 'stats' })));
    const sum: SimStats = { open: 0, connectFailed: 0, delivered: 0, results: 0, acked: 0, invalid: 0, cpuMs: 0, rssBytes: 0 };
    for (const { stats } of all) for (const k of Object.keys(sum) as Array<keyof SimStats>) sum[k] += stats![k];
    return sum;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.procs.map(async (p) => {
        const exited = new Promise((r) => p.child.once('exit', r));
        p.child.send({ type: 'close' });
        await exited;
      }),
    );
  }
}
