import { encode, type ServerMessage, type Unversioned } from '../protocol/messages.js';
import type { HubConnection } from './channel.js';
import { SerialQueue } from './serial-queue.js';

/** What the hub uses of an agent's WebSocket (a `ws` socket, or a fake in tests). */
export interface AgentSocket {
  readonly readyState: number;
  readonly OPEN: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  on(event: 'message', listener: (data: { toString(): string }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** One agent's WebSocket, with a queue per message family. */
export class AgentConnection implements HubConnection {
  activeRunIds: string[] = [];
  helloReceived = false;
  closed = false;
  lastMessageAt = Date.now();
  private readonly queues = new Map<string, SerialQueue>();
  /** Families whose queue is over its bound: while any is, the socket is not read. */
  private readonly full = new Set<string>();

  constructor(
    readonly systemId: string,
    readonly socket: AgentSocket,
    readonly publicIp: string | null,
    private readonly onPause: (family: string) => void = () => undefined,
  ) {}

  /** True while back-pressure keeps the socket unread (its silence is then not the agent's). */
  get paused(): boolean {
    return this.full.size > 0;
  }

  send(message: Unversioned<ServerMessage>): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(encode(message));
  }

  sendEncoded(text: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(text);
  }

  /** Chains work after the earlier work of the same family, so a family's messages apply in the order sent. */
  enqueue(family: string, bound: number, task: () => Promise<void>): void {
    let queue = this.queues.get(family);
    if (!queue) {
      queue = new SerialQueue(bound, (full) => this.pressure(family, full));
      this.queues.set(family, queue);
    }
    queue.push(task);
  }

  /** How many messages of a family wait or run. */
  queued(family: string): number {
    return this.queues.get(family)?.size ?? 0;
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  private pressure(family: string, full: boolean): void {
    const was = this.paused;
    if (full) this.full.add(family);
    else this.full.delete(family);
    if (!was && this.paused) {
      this.onPause(family);
      this.socket.pause();
    }
    if (was && !this.paused && !this.closed) this.socket.resume();
  }
}
