import type { Logger } from 'pino';
import type { AgentFactsInput, PresenceHold } from '../core/systems/index.js';
import { decodeAgentMessage, type Decoded, type FactsReport, type Hello } from '../protocol/messages.js';
import { CONNECTION_FAMILY, familyOf, type Channel, type FamilyMessage } from './channel.js';
import { AgentConnection, type AgentSocket } from './connection.js';
import type { HubMetrics } from './metrics.js';

/** What the registry records about presence (the core's systems service). */
export interface PresencePort {
  agentConnected(id: string, facts: AgentFactsInput, publicIp: string | null, hold: PresenceHold): Promise<void>;
  agentFacts(id: string, facts: AgentFactsInput, publicIp: string | null): Promise<void>;
  agentDisconnected(id: string, replicaId: string): Promise<void>;
  renewPresence(ids: string[], hold: PresenceHold): Promise<void>;
  releaseReplica(replicaId: string): Promise<void>;
}

export interface ConnectionRegistryOptions {
  presence: PresencePort;
  /** This replica, and how long each renewal of its leases lasts. */
  hold: PresenceHold;
  logger: Logger;
  metrics: HubMetrics;
  pingIntervalMs: number;
  /** How often the leases of the connections held here are renewed (well under `hold.leaseMs`). */
  renewIntervalMs: number;
  helloTimeoutMs: number;
  /** Validates a raw message; the agent protocol unless a test brings its own families. */
  decode?: (raw: string) => Decoded<FamilyMessage>;
}

/** hello, facts and pong are few and small: a short queue is plenty. */
const CONNECTION_QUEUE = 100;

/**
 * The agents connected to this replica: their sockets, heartbeats and presence
 * leases, and the channels their messages go to, one per message family.
 */
export class ConnectionRegistry {
  private readonly connections = new Map<string, AgentConnection>();
  private readonly channels = new Map<string, Channel>();
  /** Per system, the last presence write: a release and the next hello's take apply in that order. */
  private readonly presenceWrites = new Map<string, Promise<void>>();
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private readonly decode: (raw: string) => Decoded<FamilyMessage>;
  private readonly messageCounters = new Map<string, { inc(): void }>();

  constructor(private readonly opts: ConnectionRegistryOptions) {
    this.decode = opts.decode ?? decodeAgentMessage;
  }

  /** Adds the handler of one message family. */
  register(channel: Channel): void {
    if (channel.family === CONNECTION_FAMILY || this.channels.has(channel.family)) throw new Error(`message family ${channel.family} already has a channel`);
    this.channels.set(channel.family, channel);
  }

  get(systemId: string): AgentConnection | undefined {
    return this.connections.get(systemId);
  }

  has(systemId: string): boolean {
    return this.connections.has(systemId);
  }

  /** The ids of systems connected to this replica. */
  ids(): string[] {
    return [...this.connections.keys()];
  }

  /** Of these systems, those connected here whose hello has been handled. */
  ready(ids: string[]): string[] {
    return ids.filter((id) => this.connections.get(id)?.helloReceived);
  }

  start(): void {
    this.stopping = false;
    this.timers = [setInterval(() => this.pingAll(), this.opts.pingIntervalMs), setInterval(() => void this.renew(), this.opts.renewIntervalMs)];
    for (const t of this.timers) t.unref();
    for (const channel of this.channels.values()) channel.start?.();
  }

  /** Closes every connection and ends this replica's leases (agents reconnect, to its successor or a sibling). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const channel of this.channels.values()) await channel.stop?.();
    for (const conn of this.connections.values()) conn.close(1001, 'server shutting down');
    await Promise.allSettled([...this.presenceWrites.values()]);
    await this.opts.presence
      .releaseReplica(this.opts.hold.replicaId)
      .catch((err: unknown) => this.opts.logger.warn({ err }, 'could not release presence leases; they expire'));
    this.connections.clear();
    this.opts.metrics.connected.set(0);
  }

  /** Closes a system's connection on this replica, if it has one. */
  close(systemId: string, code: number, reason: string): void {
    this.connections.get(systemId)?.close(code, reason);
  }

  /** Takes over an authenticated agent's socket. */
  accept(systemId: string, socket: AgentSocket, publicIp: string | null): AgentConnection {
    const previous = this.connections.get(systemId);
    if (previous) previous.close(4000, 'replaced by a newer connection from the same system');
    const conn = new AgentConnection(systemId, socket, publicIp, (family) => this.opts.metrics.paused.inc({ family }));
    this.connections.set(systemId, conn);
    this.opts.metrics.connected.set(this.connections.size);
    const log = this.opts.logger.child({ system_id: systemId });
    log.info('agent connected');
    const helloTimer = setTimeout(() => {
      if (!conn.helloReceived) conn.close(4002, 'no hello received');
    }, this.opts.helloTimeoutMs);
    helloTimer.unref();
    socket.on('message', (data) => {
      conn.lastMessageAt = Date.now();
      this.receive(conn, data.toString(), log);
    });
    socket.on('close', () => {
      conn.closed = true;
      clearTimeout(helloTimer);
      for (const channel of this.channels.values()) channel.disconnected?.(conn);
      if (this.connections.get(systemId) !== conn) return;
      this.connections.delete(systemId);
      this.opts.metrics.connected.set(this.connections.size);
      log.info('agent disconnected');
      if (this.stopping) return;
      const { replicaId } = this.opts.hold;
      this.presenceWrite(systemId, () => this.opts.presence.agentDisconnected(systemId, replicaId)).catch((err: unknown) =>
        log.warn({ err }, 'could not record disconnect'),
      );
    });
    socket.on('error', (err) => log.warn({ err }, 'agent socket error'));
    return conn;
  }

  private receive(conn: AgentConnection, raw: string, log: Logger): void {
    const decoded = this.decode(raw);
    if (!decoded.ok) {
      this.messageCounter('invalid').inc();
      log.warn({ error: decoded.error }, 'invalid message from agent');
      conn.send({ type: 'error', message: decoded.error });
      return;
    }
    const message = decoded.message;
    this.messageCounter(message.type).inc();
    const family = familyOf(message.type);
    if (family === CONNECTION_FAMILY) {
      this.connectionMessage(conn, message, log);
      return;
    }
    const channel = this.channels.get(family);
    if (!channel) {
      log.warn({ type: message.type }, 'no channel handles this message');
      conn.send({ type: 'error', message: `unsupported message type ${message.type}` });
      return;
    }
    conn.enqueue(family, channel.maxQueued, () => this.handleGuarded(conn, log, channel, message));
  }

  /** The counter of one message type, looked up once (prom-client hashes the labels on every inc otherwise). */
  private messageCounter(type: string): { inc(): void } {
    let counter = this.messageCounters.get(type);
    if (!counter) this.messageCounters.set(type, (counter = this.opts.metrics.messages.labels({ type })));
    return counter;
  }

  private connectionMessage(conn: AgentConnection, message: FamilyMessage, log: Logger): void {
    const { presence } = this.opts;
    if (message.type === 'facts') {
      const { facts } = message as FactsReport;
      conn.enqueue(CONNECTION_FAMILY, CONNECTION_QUEUE, () =>
        this.guarded(conn, log, () => presence.agentFacts(conn.systemId, facts, conn.publicIp)).then(() => undefined),
      );
      return;
    }
    if (message.type !== 'hello') return;
    const hello = message as Hello;
    let settle!: (ok: boolean) => void;
    const stored = new Promise<boolean>((resolve) => (settle = resolve));
    conn.enqueue(CONNECTION_FAMILY, CONNECTION_QUEUE, () => this.guarded(conn, log, () => this.takePresence(conn, hello)).then(settle));
    // Each channel's part of the hello waits for presence, in that channel's
    // order: its messages sent after the hello come after it.
    for (const channel of this.channels.values()) {
      const helloed = channel.helloed?.bind(channel);
      if (!helloed) continue;
      conn.enqueue(channel.family, channel.maxQueued, async () => {
        if ((await stored) && !conn.closed) await this.guarded(conn, log, () => helloed(conn, hello));
      });
    }
  }

  private async takePresence(conn: AgentConnection, hello: Hello): Promise<void> {
    const { presence, hold } = this.opts;
    await this.presenceWrite(conn.systemId, async () => {
      // Closed before its turn: taking the lease now would outlive the connection.
      if (!conn.closed && !this.stopping) await presence.agentConnected(conn.systemId, hello.facts, conn.publicIp, hold);
    });
    conn.activeRunIds = hello.active_run_ids;
    conn.helloReceived = true;
  }

  /** A channel's message, guarded as `guarded` does, without a closure per message. */
  private async handleGuarded(conn: AgentConnection, log: Logger, channel: Channel, message: FamilyMessage): Promise<void> {
    try {
      await channel.handle(conn, message);
    } catch (err) {
      this.failed(conn, log, err);
    }
  }

  /** A message could not be processed: the agent reconnects and resends what was not acknowledged. */
  private failed(conn: AgentConnection, log: Logger, err: unknown): void {
    log.error({ err }, 'could not process agent message; closing the connection');
    conn.close(1011, 'server error');
  }

  /** Runs `work`; a database refusal closes the connection so the agent reconnects and resends what was not acknowledged. */
  private async guarded(conn: AgentConnection, log: Logger, work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (err) {
      this.failed(conn, log, err);
      return false;
    }
  }

  private presenceWrite(systemId: string, write: () => Promise<void>): Promise<void> {
    const next = (this.presenceWrites.get(systemId) ?? Promise.resolve()).then(write, write);
    const settled = next.catch(() => undefined);
    this.presenceWrites.set(systemId, settled);
    void settled.then(() => {
      if (this.presenceWrites.get(systemId) === settled) this.presenceWrites.delete(systemId);
    });
    return next;
  }

  private pingAll(): void {
    const deadline = Date.now() - 3 * this.opts.pingIntervalMs;
    for (const conn of this.connections.values()) {
      // An unread socket's pongs wait unread too: its silence is ours, not the agent's.
      if (conn.lastMessageAt < deadline && !conn.paused) {
        conn.socket.terminate();
        continue;
      }
      conn.send({ type: 'ping', id: Date.now() });
    }
  }

  private async renew(): Promise<void> {
    await this.opts.presence
      .renewPresence(this.ids(), this.opts.hold)
      .catch((err: unknown) => this.opts.logger.warn({ err }, 'could not renew presence leases'));
  }
}
