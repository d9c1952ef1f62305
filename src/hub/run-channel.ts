import type { Logger } from 'pino';
import type { Core } from '../core/index.js';
import type { Delivery, RunRef } from '../core/jobs/index.js';
import { encodeRunAck, runDeliverEncoder, type AgentMessage, type Hello, type Shell } from '../protocol/messages.js';
import type { Channel, FamilyMessage, HubConnection, WakeBus } from './channel.js';
import type { ConnectionRegistry } from './connection-registry.js';
import { DeliveryQueue } from './delivery-queue.js';
import type { HubMetrics } from './metrics.js';

export interface RunChannelOptions {
  core: Pick<Core, 'runs' | 'systems'>;
  connections: ConnectionRegistry;
  /** This replica's id: the address of targeted wake-ups. */
  replicaId: string;
  logger: Logger;
  metrics: HubMetrics;
  /** Cross-replica wake-ups (PostgreSQL); absent on a single node. */
  wake: WakeBus | undefined;
  /** The fallback sweep: how often every system here is re-read for waiting runs. */
  pollIntervalMs: number;
  /** Run messages that may wait per connection before its socket is no longer read. */
  maxQueued?: number;
}

const WAKE_RUNS = 'runs';
const WAKE_CANCEL = 'cancel';
/** NOTIFY payloads are limited to 8000 bytes: cancellations travel in batches. */
const CANCEL_BATCH = 100;
/** Ids are 24 characters; 250 of them, quoted, stay well under the 8000-byte NOTIFY limit. */
const WAKE_BATCH = 250;
/**
 * An agent streams output in chunks of up to 64 KiB; 1,000 waiting messages
 * bound a slow database's cost in memory per agent to some tens of MiB.
 */
const RUN_QUEUE = 1000;

/** A targeted wake-up: runs wait for these systems, which `replica` holds. */
interface RunsWake {
  replica: string;
  systems: string[];
}

/**
 * The `run.*` family: run offers and cancels to agents, their starts, output
 * and results back. Push is only a hint: a launch (here, or on a sibling that
 * wakes the replica holding its targets) starts a claim for the affected
 * agents, and a sweep every few seconds catches any lost wake-up. Every claim
 * goes through the database, so no run is sent twice.
 */
export class RunChannel implements Channel {
  readonly family = 'run';
  readonly maxQueued: number;
  private readonly deliveries: DeliveryQueue;
  private timer: NodeJS.Timeout | undefined;
  private subscribed = false;
  private startsWatched: Promise<void> | undefined;
  private readonly resultCounters = new Map<string, { inc(): void }>();
  private readonly encoders = new WeakMap<object, Omit<Delivery, 'runId' | 'env'> & { encode: (runId: string) => string }>();

  constructor(private readonly opts: RunChannelOptions) {
    this.maxQueued = opts.maxQueued ?? RUN_QUEUE;
    this.deliveries = new DeliveryQueue({
      ready: (ids) => opts.connections.ready(ids),
      claim: (ids) => opts.core.runs.deliverableBatch(ids),
      send: (systemId, deliveries) => {
        const conn = opts.connections.get(systemId);
        // Gone since the claim: its runs stay `delivered`, and its next hello gets them resent.
        if (conn) this.send(conn, deliveries);
      },
      onError: (err) => opts.logger.warn({ err }, 'claiming runs for delivery failed; polling will retry'),
    });
  }

  start(): void {
    if (!this.subscribed) {
      this.subscribed = true;
      this.opts.wake?.subscribe((topic, payload) => {
        if (topic === WAKE_RUNS) this.woken(payload);
        if (topic === WAKE_CANCEL) this.cancelLocal(JSON.parse(payload) as RunRef[]);
      });
    }
    this.timer = setInterval(() => void this.scan('sweep'), this.opts.pollIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async handle(conn: HubConnection, raw: FamilyMessage): Promise<void> {
    const { core } = this.opts;
    // The registry routes by family: only run.* messages arrive here.
    const message = raw as AgentMessage;
    switch (message.type) {
      case 'run.started':
        // Not awaited: starts are written in batches, and one whose result comes first is dropped.
        // All starts of a batch share one promise: its failure is logged once, not once per run.
        this.watchStarts(core.runs.started(conn.systemId, message.run_id, message.started_at));
        return;
      case 'run.output':
        await core.runs.output(conn.systemId, message.run_id, message.seq, message.stream, message.data);
        return;
      case 'run.result':
        if (await core.runs.complete(conn.systemId, message)) {
          this.resultCounter(message.outcome).inc();
          if (conn.sendEncoded) conn.sendEncoded(encodeRunAck(message.run_id));
          else conn.send({ type: 'run.ack', run_id: message.run_id });
        }
        return;
    }
  }

  async helloed(conn: HubConnection, hello: Hello): Promise<void> {
    const { core } = this.opts;
    for (const runId of await core.runs.pendingCancels(conn.systemId, hello.active_run_ids)) conn.send({ type: 'run.cancel', run_id: runId });
    this.send(conn, await core.runs.undelivered(conn.systemId, hello.active_run_ids));
    // New runs: claimed with the other agents (re)connecting now, one transaction for all.
    this.deliveries.request([conn.systemId]);
  }

  /** Runs were created: deliver to the agents here, wake the replicas holding the others. */
  runsCreated(systemIds: string[]): void {
    const { connections, wake } = this.opts;
    this.deliveries.request(systemIds.filter((id) => connections.has(id)));
    const remote = systemIds.filter((id) => !connections.has(id));
    if (wake && remote.length > 0) void this.wakeHolders(wake, remote);
  }

  /** Tells the agents of these runs to stop them: here directly, elsewhere through the wake channel. */
  cancelRuns(runs: RunRef[]): void {
    const remote = this.cancelLocal(runs);
    const { wake, logger } = this.opts;
    if (!wake || remote.length === 0) return;
    for (let i = 0; i < remote.length; i += CANCEL_BATCH) {
      wake
        .publish(WAKE_CANCEL, JSON.stringify(remote.slice(i, i + CANCEL_BATCH)))
        .catch((err: unknown) => logger.warn({ err }, 'cancel publish failed; the agent is told when it reconnects'));
    }
  }

  /** Publishes, to each replica holding some of these systems, the ones it holds. Offline systems wait for their hello. */
  private async wakeHolders(wake: WakeBus, systemIds: string[]): Promise<void> {
    const { core, replicaId, logger } = this.opts;
    try {
      const byReplica = new Map<string, string[]>();
      for (const [systemId, holder] of await core.systems.holders(systemIds)) {
        if (holder === replicaId) continue;
        const held = byReplica.get(holder) ?? [];
        held.push(systemId);
        byReplica.set(holder, held);
      }
      for (const [replica, held] of byReplica) {
        for (let i = 0; i < held.length; i += WAKE_BATCH) {
          const wakeUp: RunsWake = { replica, systems: held.slice(i, i + WAKE_BATCH) };
          await wake.publish(WAKE_RUNS, JSON.stringify(wakeUp));
        }
      }
    } catch (err) {
      logger.warn({ err }, 'wake-up publish failed; polling will deliver');
    }
  }

  /** A wake-up: for this replica's systems, claim; an untargeted one (an older replica's) re-reads every system here. */
  private woken(payload: string): void {
    let wakeUp: RunsWake | undefined;
    try {
      const parsed = JSON.parse(payload) as Partial<RunsWake>;
      if (typeof parsed.replica === 'string' && Array.isArray(parsed.systems))
        wakeUp = { replica: parsed.replica, systems: parsed.systems.filter((s): s is string => typeof s === 'string') };
    } catch {
      // Not JSON: an untargeted wake-up.
    }
    if (!wakeUp) {
      this.opts.metrics.wakeups.inc({ kind: 'broadcast' });
      void this.scan('wake');
      return;
    }
    if (wakeUp.replica !== this.opts.replicaId) return;
    this.opts.metrics.wakeups.inc({ kind: 'targeted' });
    this.deliveries.request(wakeUp.systems);
  }

  /** Sends run.cancel for the runs whose agents are here; returns the others. */
  private cancelLocal(runs: RunRef[]): RunRef[] {
    const remote: RunRef[] = [];
    for (const ref of runs) {
      const conn = this.opts.connections.get(ref.systemId);
      if (conn) conn.send({ type: 'run.cancel', run_id: ref.runId });
      else remote.push(ref);
    }
    return remote;
  }

  /** Logs a failed batch of starts once (every start of a batch shares its promise). */
  private watchStarts(written: Promise<void>): void {
    if (this.startsWatched === written) return;
    this.startsWatched = written;
    written.catch((err: unknown) => this.opts.logger.warn({ err }, 'could not record run starts'));
  }

  private resultCounter(outcome: string): { inc(): void } {
    let counter = this.resultCounters.get(outcome);
    if (!counter) this.resultCounters.set(outcome, (counter = this.opts.metrics.results.labels({ outcome })));
    return counter;
  }

  /**
   * The encoder of a delivery's message. Deliveries of one job claimed
   * together share their environment object (unless a run has variables of
   * its own), so the script and environment are serialised once per job and
   * claim, not once per run; an entry dies with the claim's deliveries.
   */
  private encoderOf(d: Delivery): (runId: string) => string {
    const cached = this.encoders.get(d.env);
    if (
      cached &&
      cached.jobId === d.jobId &&
      cached.content === d.content &&
      cached.shell === d.shell &&
      cached.timeoutS === d.timeoutS &&
      cached.runAs === d.runAs
    )
      return cached.encode;
    const encode = runDeliverEncoder({ job_id: d.jobId, shell: d.shell as Shell, content: d.content, env: d.env, timeout_s: d.timeoutS, run_as: d.runAs });
    this.encoders.set(d.env, { jobId: d.jobId, shell: d.shell, content: d.content, timeoutS: d.timeoutS, runAs: d.runAs, encode });
    return encode;
  }

  private send(conn: HubConnection, deliveries: Delivery[]): void {
    for (const d of deliveries) {
      if (conn.sendEncoded) {
        conn.sendEncoded(this.encoderOf(d)(d.runId));
        continue;
      }
      conn.send({
        type: 'run.deliver',
        run_id: d.runId,
        job_id: d.jobId,
        shell: d.shell as Shell,
        content: d.content,
        env: d.env,
        timeout_s: d.timeoutS,
        run_as: d.runAs,
      });
    }
    if (deliveries.length > 0) this.opts.metrics.delivered.inc(deliveries.length);
  }

  /** Re-reads every system connected here for waiting runs (the fallback for lost wake-ups). */
  private async scan(reason: 'sweep' | 'wake'): Promise<void> {
    const { connections, core, metrics, logger } = this.opts;
    try {
      metrics.scans.inc({ reason });
      this.deliveries.request(await core.runs.systemsWithPending(connections.ready(connections.ids())));
    } catch (err) {
      logger.warn({ err }, 'polling for pending runs failed');
    }
  }
}
