import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import type { Core } from '../core/index.js';
import type { Delivery, RunRef } from '../core/jobs/index.js';
import { decodeAgentMessage, type AgentMessage, type Shell } from '../protocol/messages.js';
import type { WakeChannel } from '../store/index.js';
import { AgentConnection } from './connection.js';
import { DeliveryQueue } from './delivery-queue.js';
import type { HubMetrics } from './metrics.js';

export interface AgentHubOptions {
  core: Core;
  logger: Logger;
  metrics: HubMetrics;
  /** Cross-replica wake-ups (PostgreSQL); absent on a single node. */
  wake: WakeChannel | undefined;
  pingIntervalMs?: number;
  pollIntervalMs?: number;
  presenceIntervalMs?: number;
  helloTimeoutMs?: number;
}

const WAKE_RUNS = 'runs';
const WAKE_CANCEL = 'cancel';
/** NOTIFY payloads are limited to 8000 bytes: cancellations travel in batches. */
const CANCEL_BATCH = 100;

/**
 * Holds the agents connected to this replica and delivers their runs. Push is
 * only a hint: a launch (here or, via NOTIFY, on another replica) triggers a
 * claim for the affected agents, and a poll every few seconds catches any lost
 * wake-up. Every claim goes through the database, so no run is sent twice.
 */
export class AgentHub {
  private readonly connections = new Map<string, AgentConnection>();
  private timers: NodeJS.Timeout[] = [];
  private readonly opts: Required<Omit<AgentHubOptions, 'wake'>> & { wake: WakeChannel | undefined };
  private readonly deliveries: DeliveryQueue;

  constructor(options: AgentHubOptions) {
    this.opts = { pingIntervalMs: 15_000, pollIntervalMs: 5_000, presenceIntervalMs: 30_000, helloTimeoutMs: 10_000, ...options };
    this.deliveries = new DeliveryQueue({
      ready: (ids) => ids.filter((id) => this.connections.get(id)?.helloReceived),
      claim: (ids) => this.opts.core.runs.deliverableBatch(ids),
      send: (systemId, deliveries) => {
        const conn = this.connections.get(systemId);
        // Gone since the claim: its runs stay `delivered`, and its next hello gets them resent.
        if (conn) this.send(conn, deliveries);
      },
      onError: (err) => this.opts.logger.warn({ err }, 'claiming runs for delivery failed; polling will retry'),
    });
  }

  start(): void {
    const { pingIntervalMs, pollIntervalMs, presenceIntervalMs } = this.opts;
    this.opts.wake?.subscribe((topic, payload) => {
      if (topic === WAKE_RUNS) void this.pollPending();
      if (topic === WAKE_CANCEL) this.cancelLocal(JSON.parse(payload) as RunRef[]);
    });
    this.timers = [
      setInterval(() => this.pingAll(), pingIntervalMs),
      setInterval(() => void this.pollPending(), pollIntervalMs),
      setInterval(() => void this.recordPresence(), presenceIntervalMs),
    ];
    for (const t of this.timers) t.unref();
  }

  /** Closes every agent connection (agents reconnect, to this server's successor or a sibling). */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const closing = [...this.connections.values()].map(async (c) => {
      c.close(1001, 'server shutting down');
      await this.opts.core.systems.agentDisconnected(c.systemId).catch(() => undefined);
    });
    await Promise.all(closing);
    this.connections.clear();
    this.opts.metrics.connected.set(0);
  }

  /** Closes a deleted system's connection on this replica, if it has one (4003: the agent stops reconnecting). */
  disconnect(systemId: string): void {
    this.connections.get(systemId)?.close(4003, 'system deleted');
  }

  /** The ids of systems connected to this replica. */
  connectedSystemIds(): string[] {
    return [...this.connections.keys()];
  }

  /** Called by the core when runs are created: deliver to local agents, wake other replicas. */
  runsCreated(systemIds: string[]): void {
    this.deliveries.request(systemIds.filter((id) => this.connections.has(id)));
    if (this.opts.wake && systemIds.some((id) => !this.connections.has(id))) {
      this.opts.wake.publish(WAKE_RUNS, '').catch((err: unknown) => this.opts.logger.warn({ err }, 'wake-up publish failed; polling will deliver'));
    }
  }

  /** Tells the agents of these runs to stop them: here directly, elsewhere through the wake channel. */
  cancelRuns(runs: RunRef[]): void {
    const remote = this.cancelLocal(runs);
    if (!this.opts.wake || remote.length === 0) return;
    for (let i = 0; i < remote.length; i += CANCEL_BATCH) {
      this.opts.wake.publish(WAKE_CANCEL, JSON.stringify(remote.slice(i, i + CANCEL_BATCH))).catch((err: unknown) => this.opts.logger.warn({ err }, 'cancel publish failed; the agent is told when it reconnects'));
    }
  }

  /** Sends run.cancel for the runs whose agents are here; returns the others. */
  private cancelLocal(runs: RunRef[]): RunRef[] {
    const remote: RunRef[] = [];
    for (const ref of runs) {
      const conn = this.connections.get(ref.systemId);
      if (conn) conn.send({ type: 'run.cancel', run_id: ref.runId });
      else remote.push(ref);
    }
    return remote;
  }

  /** Takes over an authenticated agent's socket. */
  accept(systemId: string, socket: WebSocket, publicIp: string | null): void {
    const previous = this.connections.get(systemId);
    if (previous) previous.close(4000, 'replaced by a newer connection from the same system');
    const conn = new AgentConnection(systemId, socket, publicIp);
    this.connections.set(systemId, conn);
    this.opts.metrics.connected.set(this.connections.size);
    const log = this.opts.logger.child({ system_id: systemId });
    log.info('agent connected');
    const helloTimer = setTimeout(() => {
      if (!conn.helloReceived) conn.close(4002, 'no hello received');
    }, this.opts.helloTimeoutMs);
    helloTimer.unref();
    socket.on('message', (data: RawData) => {
      conn.lastMessageAt = Date.now();
      void conn.serial(() => this.receive(conn, data.toString(), log));
    });
    socket.on('close', () => {
      clearTimeout(helloTimer);
      if (this.connections.get(systemId) !== conn) return;
      this.connections.delete(systemId);
      this.opts.metrics.connected.set(this.connections.size);
      log.info('agent disconnected');
      void this.opts.core.systems.agentDisconnected(systemId).catch((err: unknown) => log.warn({ err }, 'could not record disconnect'));
    });
    socket.on('error', (err) => log.warn({ err }, 'agent socket error'));
  }

  private async receive(conn: AgentConnection, raw: string, log: Logger): Promise<void> {
    const decoded = decodeAgentMessage(raw);
    if (!decoded.ok) {
      this.opts.metrics.messages.inc({ type: 'invalid' });
      log.warn({ error: decoded.error }, 'invalid message from agent');
      conn.send({ type: 'error', message: decoded.error });
      return;
    }
    this.opts.metrics.messages.inc({ type: decoded.message.type });
    try {
      await this.handle(conn, decoded.message);
    } catch (err) {
      // The database refused: drop the connection so the agent reconnects and
      // resends what was not acknowledged. Nothing is lost, only delayed.
      log.error({ err }, 'could not process agent message; closing the connection');
      conn.close(1011, 'server error');
    }
  }

  private async handle(conn: AgentConnection, message: AgentMessage): Promise<void> {
    const { core } = this.opts;
    switch (message.type) {
      case 'hello':
        await core.systems.agentConnected(conn.systemId, message.facts, conn.publicIp);
        conn.activeRunIds = message.active_run_ids;
        conn.helloReceived = true;
        for (const runId of await core.runs.pendingCancels(conn.systemId, message.active_run_ids)) conn.send({ type: 'run.cancel', run_id: runId });
        this.send(conn, await core.runs.undelivered(conn.systemId, message.active_run_ids));
        // New runs: claimed with the other agents (re)connecting now, one transaction for all.
        this.deliveries.request([conn.systemId]);
        return;
      case 'run.started':
        // Not awaited: starts are written in batches, and one whose result comes first is dropped.
        core.runs.started(conn.systemId, message.run_id, message.started_at).catch((err: unknown) => this.opts.logger.warn({ err }, 'could not record run starts'));
        return;
      case 'run.output':
        await core.runs.output(conn.systemId, message.run_id, message.seq, message.stream, message.data);
        return;
      case 'run.result':
        if (await core.runs.complete(conn.systemId, message)) {
          this.opts.metrics.results.inc({ outcome: message.outcome });
          conn.send({ type: 'run.ack', run_id: message.run_id });
        }
        return;
      case 'facts':
        await core.systems.agentFacts(conn.systemId, message.facts, conn.publicIp);
        return;
      case 'pong':
        return;
    }
  }

  private send(conn: AgentConnection, deliveries: Delivery[]): void {
    for (const d of deliveries) {
      conn.send({ type: 'run.deliver', run_id: d.runId, job_id: d.jobId, shell: d.shell as Shell, content: d.content, env: d.env, timeout_s: d.timeoutS, run_as: d.runAs });
    }
    if (deliveries.length > 0) this.opts.metrics.delivered.inc(deliveries.length);
  }

  private async pollPending(): Promise<void> {
    try {
      const ready = [...this.connections.values()].filter((c) => c.helloReceived).map((c) => c.systemId);
      this.deliveries.request(await this.opts.core.runs.systemsWithPending(ready));
    } catch (err) {
      this.opts.logger.warn({ err }, 'polling for pending runs failed');
    }
  }

  private pingAll(): void {
    const deadline = Date.now() - 3 * this.opts.pingIntervalMs;
    for (const conn of this.connections.values()) {
      if (conn.lastMessageAt < deadline) {
        conn.socket.terminate();
        continue;
      }
      conn.send({ type: 'ping', id: Date.now() });
    }
  }

  private async recordPresence(): Promise<void> {
    await this.opts.core.systems.agentsSeen(this.connectedSystemIds()).catch((err: unknown) => this.opts.logger.warn({ err }, 'could not record presence'));
  }
}
