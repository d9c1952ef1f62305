import type { Hello, ServerMessage, Unversioned } from '../protocol/messages.js';

/**
 * The family of a message type: what comes before the first dot (`run.output`
 * → `run`). Types without a dot (`hello`, `facts`, `pong`) are the
 * connection's own, handled by the registry.
 */
export function familyOf(type: string): string {
  const dot = type.indexOf('.');
  return dot < 0 ? CONNECTION_FAMILY : type.slice(0, dot);
}

/** The family of the messages about the connection itself. */
export const CONNECTION_FAMILY = 'connection';

/** One agent's connection, as channels see it. */
export interface HubConnection {
  readonly systemId: string;
  readonly publicIp: string | null;
  /** Runs the agent said it has; from its hello. */
  readonly activeRunIds: string[];
  readonly helloReceived: boolean;
  send(message: Unversioned<ServerMessage>): void;
  /** Sends a message already encoded (as `encode` writes it); absent where only `send` is offered. */
  sendEncoded?(text: string): void;
  close(code: number, reason: string): void;
}

/** A decoded agent message of some family (its fields are the family's business). */
export interface FamilyMessage {
  readonly type: string;
}

/**
 * The handler of one message family. Each connection gets a queue per family,
 * so the family's messages apply in the order sent while a slow write of one
 * family (output inserts) never holds back another's.
 */
export interface Channel {
  readonly family: string;
  /**
   * Messages of this family that may wait per connection. Past it the hub
   * stops reading that socket (TCP pushes back on the agent) until the queue
   * is half drained.
   */
  readonly maxQueued: number;
  /** One message of this family, after the previous one of the same connection and family. */
  handle(conn: HubConnection, message: FamilyMessage): Promise<void>;
  /** The agent's hello is stored (this replica holds its presence): queued in this family's order. */
  helloed?(conn: HubConnection, hello: Hello): Promise<void>;
  /** The connection closed (called for every connection, replaced ones too). */
  disconnected?(conn: HubConnection): void;
  start?(): void;
  stop?(): Promise<void>;
}

export type { WakeBus } from '../core/index.js';
