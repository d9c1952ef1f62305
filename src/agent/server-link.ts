import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { httpDate, signRequest } from '../auth/http-signature.js';
import { Backoff } from '../lib/backoff.js';
import { encode, type AgentMessage, type Unversioned } from '../protocol/messages.js';
import { serverAddresses, type AgentIdentity } from './state.js';

export interface ServerLinkOptions {
  identity: AgentIdentity;
  privateKeyPem: string;
  logger: Logger;
  /** Called on every (re)connect, before any message is received. */
  onOpen: () => void;
  onMessage: (raw: string) => void;
  /** Called when an open connection closes (whatever follows: a reconnect, or the stop). */
  onClose?: () => void;
  /** The server closed the connection because this system was deleted: the link stops reconnecting. */
  onDeleted?: () => void;
  /** Silence after which the connection is presumed dead (the server pings every 15 s). */
  idleTimeoutMs?: number;
}

export const CONNECT_PATH = '/agent/v1/connect';
/** A connection that lived this long counts as a success: backing off starts again from scratch. */
const STABLE_MS = 10_000;
const DEFAULT_IDLE_MS = 45_000;
/** WebSocket close code: the server deleted this system (deregistered, or by an admin). */
export const SYSTEM_DELETED = 4003;
export const REFUSED_MESSAGE = "the server refused this agent's signature: the system may have been deleted, or its key does not match";

/**
 * The headers of one connection attempt. RSA PKCS#1 v1.5 signatures are
 * deterministic, so two attempts in the same second over just the request
 * line and date would carry the same signature, and the server refuses a
 * signature it has seen (replay). A random nonce header, signed too, makes
 * every attempt's signature unique.
 */
export function connectHeaders(identity: AgentIdentity, privateKeyPem: string, now: Date = new Date()): Record<string, string> {
  const date = httpDate(now);
  const nonce = randomBytes(12).toString('hex');
  const authorization = signRequest({
    keyId: `system/${identity.systemKey}`,
    privateKeyPem,
    request: { method: 'GET', path: CONNECT_PATH, headers: { date, 'x-muster-nonce': nonce } },
    headers: ['request-line', 'date', 'x-muster-nonce'],
  });
  return { date, 'x-muster-nonce': nonce, authorization };
}

/** `http://host` → `ws://host/agent/v1/connect`, `https://` → `wss://`. */
export function connectUrl(server: string): string {
  return `${server.replace(/\/+$/, '').replace(/^http/, 'ws')}${CONNECT_PATH}`;
}

/**
 * The agent's one WebSocket to the server, kept open until stop(): every
 * attempt is signed afresh, failures back off (capped, jittered, 500 ms to
 * 30 s), and a connection silent for 45 s is dropped and replaced.
 */
export class ServerLink {
  private socket: WebSocket | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff({ baseMs: 500, maxMs: 30_000 });
  /** The server addresses, tried in turn; `at` is the one in use. */
  private readonly servers: string[];
  private at = 0;

  constructor(private readonly o: ServerLinkOptions) {
    this.servers = serverAddresses(o.identity);
  }

  /** The address connected to, or tried next. */
  get server(): string {
    return this.servers[this.at]!;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** True while the WebSocket is open. */
  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Sends if connected; false otherwise (the caller keeps what matters on disk). */
  send(message: Unversioned<AgentMessage>): boolean {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(encode(message));
    return true;
  }

  /** Closes the connection (at most 2 s for a clean close) and stops reconnecting. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.idleTimer);
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => (socket.terminate(), resolve()), 2000);
      socket.once('close', () => (clearTimeout(timer), resolve()));
      socket.close(1000, 'agent stopping');
    });
  }

  private connect(): void {
    if (this.stopped) return;
    const { identity, privateKeyPem, logger } = this.o;
    const server = this.server;
    const socket = new WebSocket(connectUrl(server), { headers: connectHeaders(identity, privateKeyPem), handshakeTimeout: 15_000 });
    this.socket = socket;
    let openedAt = 0;
    let lastError: string | undefined;
    socket.on('unexpected-response', (_req, res) => this.refused(socket, res));
    socket.on('open', () => {
      openedAt = Date.now();
      logger.info({ server }, 'connected to the server');
      this.touch();
      this.o.onOpen();
    });
    socket.on('message', (data) => {
      this.touch();
      this.o.onMessage(data.toString());
    });
    socket.on('ping', () => this.touch());
    socket.on('error', (err) => (lastError = err.message));
    socket.on('close', (code) => {
      clearTimeout(this.idleTimer);
      if (this.socket === socket) this.socket = undefined;
      if (openedAt) this.o.onClose?.();
      if (this.stopped) return;
      if (code === SYSTEM_DELETED) {
        logger.error({ code }, 'this system was deleted on the server; not reconnecting (enroll again to come back)');
        this.stopped = true;
        this.o.onDeleted?.();
        return;
      }
      if (openedAt && Date.now() - openedAt >= STABLE_MS) this.backoff.reset();
      // Unreachable, or shutting down (1001: a replica draining hands its agents over): the next address.
      if (!openedAt || code === 1001) this.at = (this.at + 1) % this.servers.length;
      const delay = this.backoff.next();
      if (openedAt) logger.info({ code, retry_in_ms: delay }, 'disconnected from the server; reconnecting');
      else logger.info({ server, error: lastError, retry_in_ms: delay, next: this.server }, 'cannot connect to the server; retrying');
      this.retryTimer = setTimeout(() => this.connect(), delay);
    });
  }

  /** The server answered the upgrade with an HTTP error: log why, and let `close` schedule the retry. */
  private refused(socket: WebSocket, res: IncomingMessage): void {
    if (res.statusCode === 401) this.o.logger.error({ status: 401 }, REFUSED_MESSAGE);
    else this.o.logger.warn({ status: res.statusCode }, 'the server refused the connection');
    res.resume();
    socket.terminate();
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.o.logger.warn({ idle_ms: this.o.idleTimeoutMs ?? DEFAULT_IDLE_MS }, 'no message from the server for too long; reconnecting');
      this.socket?.terminate();
    }, this.o.idleTimeoutMs ?? DEFAULT_IDLE_MS);
  }
}
