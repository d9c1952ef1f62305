import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { parseSignatureHeader, signingString, verifySignature } from '../../auth/http-signature.js';
import { decodeAgentMessage, encode, type ServerMessage, type Unversioned } from '../../protocol/messages.js';
import { MessageLog } from './message-log.js';

/** One agent connection as the fake server sees it; every message is validated against the protocol. */
export class FakeConnection extends MessageLog {
  /** Messages from the agent that failed validation (a test expects none). */
  readonly invalid: string[] = [];

  constructor(readonly socket: WebSocket) {
    super();
    socket.on('message', (data) => {
      const decoded = decodeAgentMessage(data.toString());
      if (!decoded.ok) return void this.invalid.push(decoded.error);
      const { v: _v, ...message } = decoded.message;
      this.add(message as Parameters<MessageLog['add']>[0]);
    });
  }

  send(message: Unversioned<ServerMessage>): void {
    this.socket.send(encode(message));
  }

  /** Sends a ping and resolves on its pong: everything sent before it has been handled by then. */
  async roundTrip(id: number): Promise<void> {
    this.send({ type: 'ping', id });
    const pong = await this.next('pong', undefined, this.all('pong').length + 1);
    if (pong.id !== id) throw new Error(`pong ${pong.id} answered ping ${id}`);
  }
}

/**
 * Test double of the server's agent hub, at the network boundary: a real
 * HTTP server whose upgrade handler verifies the HTTP Signature (refusing
 * replays) and a real WebSocket server behind it.
 */
export class FakeServer {
  url = '';
  /** Upgrades to refuse with 401 even when correctly signed. */
  refuseNext = 0;
  readonly signatures: string[] = [];
  readonly refusals: string[] = [];
  private readonly http: Server = createServer((_req, res) => res.writeHead(404).end());
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly connections: FakeConnection[] = [];
  private waiters: Array<{ n: number; resolve: (c: FakeConnection) => void }> = [];

  constructor(
    private readonly systemId: string,
    private readonly publicKeyPem: string,
  ) {
    this.http.on('upgrade', (req, socket: Duplex, head) => {
      const refusal = this.check(req.method ?? 'GET', req.url ?? '', req.headers as Record<string, string | undefined>);
      if (refusal) {
        this.refusals.push(refusal);
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
  }

  async start(): Promise<this> {
    this.http.listen(0, '127.0.0.1');
    await once(this.http, 'listening');
    this.url = `http://127.0.0.1:${(this.http.address() as { port: number }).port}`;
    return this;
  }

  /** The `n`-th (from 1) connection, now or when it opens. */
  connection(n: number): Promise<FakeConnection> {
    if (this.connections.length >= n) return Promise.resolve(this.connections[n - 1]!);
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  /** Why the upgrade is refused, or undefined to accept it. */
  private check(method: string, path: string, headers: Record<string, string | undefined>): string | undefined {
    const parsed = parseSignatureHeader(headers.authorization);
    if (typeof parsed === 'string') return parsed;
    if (parsed.keyId !== `system/${this.systemId}`) return `unknown key ${parsed.keyId}`;
    if (!parsed.headers.includes('request-line') || !parsed.headers.includes('date')) return 'request line and date must be signed';
    if (Math.abs(Date.parse(headers.date ?? '') - Date.now()) > 300_000) return 'stale date';
    if (!verifySignature(parsed, signingString(parsed.headers, { method, path, headers }), this.publicKeyPem)) return 'bad signature';
    const signature = parsed.signature.toString('base64');
    if (this.signatures.includes(signature)) return 'replayed signature';
    this.signatures.push(signature);
    if (this.refuseNext > 0) return (this.refuseNext--, 'refused by the test');
    return undefined;
  }

  private accept(ws: WebSocket): void {
    const connection = new FakeConnection(ws);
    this.connections.push(connection);
    const n = this.connections.length;
    for (const w of this.waiters.filter((w) => w.n === n)) w.resolve(connection);
    this.waiters = this.waiters.filter((w) => w.n !== n);
  }
}
