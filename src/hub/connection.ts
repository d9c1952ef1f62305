import type { WebSocket } from 'ws';
import { encode, type ServerMessage, type Unversioned } from '../protocol/messages.js';

/** One agent's WebSocket, with its messages processed strictly in order. */
export class AgentConnection {
  /** Runs the agent said it has; from its hello. */
  activeRunIds: string[] = [];
  helloReceived = false;
  lastMessageAt = Date.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly systemId: string,
    readonly socket: WebSocket,
    readonly publicIp: string | null,
  ) {}

  send(message: Unversioned<ServerMessage>): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(encode(message));
  }

  /** Chains work so one agent's messages (started, output, result) apply in the order sent. */
  serial(task: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(task, task);
    return this.queue;
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }
}
