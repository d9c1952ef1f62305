import { EventEmitter } from 'node:events';
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../core/jobs/index.js';
import { decodeAgentMessage, encode, PROTOCOL_VERSION, type Decoded } from '../protocol/messages.js';
import type { Channel, FamilyMessage, HubConnection } from './channel.js';
import { ConnectionRegistry, type PresencePort } from './connection-registry.js';
import { hubMetrics } from './metrics.js';
import { RunChannel } from './run-channel.js';

/** A socket at the process boundary: what the registry reads and writes, recorded. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  readonly sent: Array<{ type: string; run_id?: string }> = [];
  pauses = 0;
  resumes = 0;
  send(data: string): void {
    this.sent.push(JSON.parse(data) as { type: string });
  }
  close(): void {
    this.readyState = 3;
    this.emit('close');
  }
  terminate(): void {
    this.close();
  }
  pause(): void {
    this.pauses++;
  }
  resume(): void {
    this.resumes++;
  }
  /** As the agent would send it. */
  deliver(message: Record<string, unknown>): void {
    this.emit('message', Buffer.from(JSON.stringify({ v: PROTOCOL_VERSION, ...message })));
  }
}

/** A promise with its resolver, to hold a write open. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A message family no agent speaks: the channel records what reaches it and when. */
class ProbeChannel implements Channel {
  readonly family = 'probe';
  readonly maxQueued = 10;
  readonly seen: string[] = [];
  private waiter: (() => void) | undefined;
  async handle(_conn: HubConnection, message: FamilyMessage): Promise<void> {
    this.seen.push(message.type);
    this.waiter?.();
  }
  next(): Promise<void> {
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

/** The agent protocol, plus families no agent speaks (`probe.*`, `other.*`). */
function decode(raw: string): Decoded<FamilyMessage> {
  const value = JSON.parse(raw) as { type?: unknown };
  if (typeof value.type === 'string' && /^(probe|other)\./.test(value.type)) return { ok: true, message: { type: value.type } };
  return decodeAgentMessage(raw);
}

const FACTS = { hostname: 'h', os: 'linux', os_release: '1', arch: 'x64', ip_addresses: [], agent_version: '0' };

function setup(options: { runQueue?: number } = {}) {
  const log: string[] = [];
  const outputGate = gate();
  const presence: PresencePort = {
    agentConnected: async (id, _facts, _ip, hold) => void log.push(`take ${id} ${hold.replicaId}`),
    agentFacts: async (id) => void log.push(`facts ${id}`),
    agentDisconnected: async (id, replicaId) => void log.push(`release ${id} ${replicaId}`),
    renewPresence: async () => undefined,
    releaseReplica: async (replicaId) => void log.push(`release all ${replicaId}`),
  };
  const runs = {
    output: async (_s: string, runId: string, seq: number) => {
      log.push(`output ${runId} ${seq} start`);
      await outputGate.promise;
      log.push(`output ${runId} ${seq} done`);
    },
    complete: async (_s: string, result: { run_id: string }) => {
      log.push(`result ${result.run_id}`);
      return true;
    },
    started: async () => undefined,
    pendingCancels: async () => [],
    undelivered: async () => [] as Delivery[],
    deliverableBatch: async () => new Map<string, Delivery[]>(),
    systemsWithPending: async () => [],
  };
  const metrics = hubMetrics(new Registry());
  const logger = pino({ level: 'silent' });
  const hold = { replicaId: 'replica-a', leaseMs: 90_000 };
  const registry = new ConnectionRegistry({ presence, hold, logger, metrics, pingIntervalMs: 60_000, renewIntervalMs: 60_000, helloTimeoutMs: 60_000, decode });
  const runChannel = new RunChannel({
    core: { runs, systems: {} } as never,
    connections: registry,
    replicaId: hold.replicaId,
    logger,
    metrics,
    wake: undefined,
    pollIntervalMs: 60_000,
    maxQueued: options.runQueue ?? 100,
  });
  const probe = new ProbeChannel();
  registry.register(runChannel);
  registry.register(probe);
  const socket = new FakeSocket();
  registry.accept('sys-1', socket, null);
  return { registry, socket, probe, log, outputGate, metrics };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ConnectionRegistry and its channels', () => {
  it('a blocked output write holds back only the run family: the probe family and facts go on', async () => {
    const { socket, probe, log, outputGate } = setup();
    socket.deliver({ type: 'hello', facts: FACTS, active_run_ids: [] });
    socket.deliver({ type: 'run.output', run_id: 'r1', seq: 0, stream: 'stdout', data: 'x' });
    socket.deliver({
      type: 'run.result',
      run_id: 'r1',
      outcome: 'exited',
      exit_code: 0,
      signal: null,
      started_at: '2026-01-01T00:00:00Z',
      finished_at: '2026-01-01T00:00:01Z',
      stdout: '',
      stderr: '',
      stdout_truncated: false,
      stderr_truncated: false,
      error: null,
    });
    const probed = probe.next();
    socket.deliver({ type: 'probe.ping' });
    socket.deliver({ type: 'facts', facts: FACTS });
    await probed;
    await settle();
    expect(probe.seen).toEqual(['probe.ping']);
    expect(log).toHaveLength(3);
    expect(log).toEqual(expect.arrayContaining(['take sys-1 replica-a', 'output r1 0 start', 'facts sys-1']));
    outputGate.open();
    await settle();
    // Within the run family, the order sent is the order applied.
    expect(log.slice(3)).toEqual(['output r1 0 done', 'result r1']);
    expect(socket.sent.filter((m) => m.type === 'run.ack').map((m) => m.run_id)).toEqual(['r1']);
  });

  it("stops reading the socket while a family's queue is over its bound, and reads again once it drained", async () => {
    const { socket, outputGate, metrics } = setup({ runQueue: 2 });
    socket.deliver({ type: 'hello', facts: FACTS, active_run_ids: [] });
    for (let seq = 0; seq < 4; seq++) socket.deliver({ type: 'run.output', run_id: 'r1', seq, stream: 'stdout', data: 'x' });
    expect(socket.pauses).toBe(1);
    expect(socket.resumes).toBe(0);
    expect((await metrics.paused.get()).values).toEqual([expect.objectContaining({ labels: { family: 'run' }, value: 1 })]);
    outputGate.open();
    await settle();
    expect(socket.resumes).toBe(1);
  });

  it("takes the presence lease on hello, releases it on close, and releases all of this replica's on stop", async () => {
    const { registry, socket, log } = setup();
    socket.deliver({ type: 'hello', facts: FACTS, active_run_ids: [] });
    await settle();
    expect(registry.ready(['sys-1'])).toEqual(['sys-1']);
    socket.close();
    await settle();
    expect(registry.ids()).toEqual([]);
    await registry.stop();
    expect(log).toEqual(['take sys-1 replica-a', 'release sys-1 replica-a', 'release all replica-a']);
  });

  it('answers a message of a family without a channel with an error, and keeps the connection', async () => {
    const { socket, registry } = setup();
    socket.emit('message', Buffer.from(encode({ type: 'pong', id: 1 })));
    socket.deliver({ type: 'other.x' });
    expect(socket.sent).toEqual([expect.objectContaining({ type: 'error', message: 'unsupported message type other.x' })]);
    expect(registry.ids()).toEqual(['sys-1']);
  });
});
