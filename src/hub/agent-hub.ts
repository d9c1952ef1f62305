import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Core } from '../core/index.js';
import type { RunRef } from '../core/jobs/index.js';
import { DEFAULT_LEASE_MS } from '../core/systems/index.js';
import type { WakeBus } from './channel.js';
import { ConnectionRegistry } from './connection-registry.js';
import type { AgentSocket } from './connection.js';
import type { HubMetrics } from './metrics.js';
import { RunChannel } from './run-channel.js';
import type { SessionLink } from '../core/sessions/index.js';
import { PeerSessions, type PeerSessionsOptions } from './peer-sessions.js';
import { localSessionLink, SessionChannel } from './session-channel.js';

export interface AgentHubOptions {
  core: Core;
  logger: Logger;
  metrics: HubMetrics;
  /** Cross-replica wake-ups (PostgreSQL); absent on a single node. */
  wake: WakeBus | undefined;
  /** This server process among the replicas; random when not given. */
  replicaId?: string;
  pingIntervalMs?: number;
  pollIntervalMs?: number;
  /** How long a presence lease lasts without renewal. */
  leaseMs?: number;
  /** How often the leases of the agents connected here are renewed. */
  renewIntervalMs?: number;
  helloTimeoutMs?: number;
  /** Sessions across replicas: where this one listens for its peers (absent: its own agents' sessions only). */
  peers?: Pick<PeerSessionsOptions, 'keyring' | 'listen' | 'advertise'> | undefined;
}

/** A fresh replica id: a process that restarts is a new holder, and the old one's leases expire or were released. */
function newReplicaId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * The agents connected to this replica and their message families: a
 * connection registry (sockets, heartbeats, presence leases) with one
 * channel per family registered on it, the run channel today.
 */
export class AgentHub {
  readonly replicaId: string;
  private readonly connections: ConnectionRegistry;
  private readonly runs: RunChannel;
  /** The live sessions of the agents connected here. */
  private readonly sessionChannel: SessionChannel;
  private readonly peers: PeerSessions | undefined;
  /** How core reaches shells: here, or through the peer holding the agent. */
  readonly sessions: SessionLink;

  constructor(options: AgentHubOptions) {
    const { core, logger, metrics, wake } = options;
    this.replicaId = options.replicaId ?? newReplicaId();
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.connections = new ConnectionRegistry({
      presence: core.systems,
      hold: { replicaId: this.replicaId, leaseMs },
      logger,
      metrics,
      pingIntervalMs: options.pingIntervalMs ?? 15_000,
      renewIntervalMs: options.renewIntervalMs ?? Math.max(1, Math.floor(leaseMs / 3)),
      helloTimeoutMs: options.helloTimeoutMs ?? 10_000,
    });
    this.runs = new RunChannel({
      core,
      connections: this.connections,
      replicaId: this.replicaId,
      logger,
      metrics,
      wake,
      pollIntervalMs: options.pollIntervalMs ?? 5_000,
    });
    this.connections.register(this.runs);
    this.sessionChannel = new SessionChannel({ sessions: core.sessions, connections: this.connections, replicaId: this.replicaId, logger });
    this.connections.register(this.sessionChannel);
    this.peers = options.peers
      ? new PeerSessions({ ...options.peers, local: this.sessionChannel, presence: core.systems, logger: logger.child({ component: 'peers' }), leaseMs })
      : undefined;
    this.sessions = this.peers ?? localSessionLink(this.sessionChannel);
  }

  async start(): Promise<void> {
    await this.peers?.start();
    this.connections.start();
  }

  /** Closes every agent connection and releases their leases (agents reconnect, to this server's successor or a sibling). */
  async stop(): Promise<void> {
    await this.peers?.stop();
    await this.connections.stop();
  }

  /** Closes a deleted system's connection on this replica, if it has one (4003: the agent stops reconnecting). */
  disconnect(systemId: string): void {
    this.connections.close(systemId, 4003, 'system deleted');
  }

  /** The ids of systems connected to this replica. */
  connectedSystemIds(): string[] {
    return this.connections.ids();
  }

  /** Called by the core when runs are created: deliver to local agents, wake the replicas holding the others. */
  runsCreated(systemIds: string[]): void {
    this.runs.runsCreated(systemIds);
  }

  /** Tells the agents of these runs to stop them: here directly, elsewhere through the wake channel. */
  cancelRuns(runs: RunRef[]): void {
    this.runs.cancelRuns(runs);
  }

  /** Takes over an authenticated agent's socket. */
  accept(systemId: string, socket: AgentSocket, publicIp: string | null): void {
    this.connections.accept(systemId, socket, publicIp);
  }
}
