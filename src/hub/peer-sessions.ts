import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Attachment, SessionEnd, SessionLink, SessionRecord, SessionViewer, ShellStart, ViewerEvent } from '../core/sessions/index.js';
import type { SecretKeyring } from '../lib/secret-box.js';
import type { SessionChannel } from './session-channel.js';

/**
 * Sessions across replicas (and the workers of `--workers N`). A session
 * lives on the replica holding its agent's connection; a request or a
 * viewer's socket may reach any other. Each replica listens on a peer
 * address of its own (announced in the database under a lease), and the
 * replica a request reached forwards it there: opening a shell, attaching a
 * viewer (terminal bytes relayed both ways, the agent credited only once the
 * far viewer has taken its output), ending a session.
 *
 * Peers prove they hold the server's secret key: the `x-muster-peer` header
 * is a timestamp sealed with it (AES-GCM, which authenticates), accepted
 * within PEER_SKEW_MS. Replicas of one deployment share that key already
 * (trigger secrets are sealed with it).
 */

const PATH = '/peer/v1/session';
const HEADER = 'x-muster-peer';
const CONTEXT = 'muster peer';
const PEER_SKEW_MS = 60_000;
/** A peer that does not answer an open or an attach within this long is treated as gone. */
const PEER_TIMEOUT_MS = 20_000;

/** What one peer request asks, in its first frame. */
type PeerRequest = { op: 'open'; session: SessionRecord } | { op: 'attach'; session_id: string } | { op: 'close'; session_id: string; end: SessionEnd };

/** Frames from the replica holding the session. */
type PeerReply = { type: 'started'; start: ShellStart } | { type: 'attached' } | { type: 'event'; event: ViewerEvent } | { type: 'closed' };

/** Frames from the replica the viewer is on, during an attach. */
type PeerControl = { type: 'resize'; cols: number; rows: number } | { type: 'taken' };

export interface PeerSessionsOptions {
  local: SessionChannel;
  /** Holders of agents' presence leases, and the peer address of each replica. */
  presence: {
    holders(ids: string[]): Promise<Map<string, string>>;
    peerUrl(replicaId: string): Promise<string | undefined>;
    announcePeer(replicaId: string, url: string, leaseMs: number): Promise<void>;
    withdrawPeer(replicaId: string): Promise<void>;
  };
  keyring: SecretKeyring;
  logger: Logger;
  /** Where this replica listens for its peers (`host:port`; port 0 picks one). */
  listen: { host: string; port: number };
  /** The address peers use, when not the one listened on (a replica behind NAT, a container). */
  advertise?: string | undefined;
  /** How long an announcement lasts; renewed every third of it. */
  leaseMs: number;
}

/** The session link of a replica with peers: local sessions here, the others through the replica holding them. */
export class PeerSessions implements SessionLink {
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private url: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: PeerSessionsOptions) {}

  /** Listens for peers (exclusively: under node:cluster each worker has its own port) and announces the address. */
  async start(): Promise<void> {
    const server = createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ server, path: PATH, maxPayload: 1024 * 1024, verifyClient: ({ req }: { req: IncomingMessage }) => this.trusted(req) });
    wss.on('connection', (socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.opts.listen.host, port: this.opts.listen.port, exclusive: true }, () => resolve());
    });
    this.server = server;
    this.wss = wss;
    const { port } = server.address() as AddressInfo;
    this.url = this.opts.advertise ?? `ws://${this.opts.listen.host.includes(':') ? `[${this.opts.listen.host}]` : this.opts.listen.host}:${port}`;
    await this.announce();
    this.timer = setInterval(() => void this.announce(), Math.max(1000, Math.floor(this.opts.leaseMs / 3)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.opts.presence.withdrawPeer(this.opts.local.replicaId).catch(() => undefined);
    for (const client of this.wss?.clients ?? []) client.terminate();
    this.wss?.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  async reach(systemId: string): Promise<string | undefined> {
    const { local, presence } = this.opts;
    if (local.connected(systemId)) return local.replicaId;
    const holder = (await presence.holders([systemId])).get(systemId);
    if (!holder || holder === local.replicaId) return undefined;
    return (await presence.peerUrl(holder)) ? holder : undefined;
  }

  async open(session: SessionRecord): Promise<ShellStart> {
    if (session.replicaId === this.opts.local.replicaId) return this.opts.local.open(session);
    const socket = await this.dial(session.replicaId);
    if (!socket) return { ok: false, error: `the server holding the agent (${session.replicaId}) cannot be reached` };
    const reply = await this.first(socket, { op: 'open', session });
    socket.close(1000);
    return reply?.type === 'started' ? reply.start : { ok: false, error: `the server holding the agent (${session.replicaId}) did not start the shell` };
  }

  async attach(session: SessionRecord, viewer: SessionViewer): Promise<Attachment | undefined> {
    const here = this.opts.local.attach(session.id, viewer);
    if (here || session.replicaId === this.opts.local.replicaId) return here;
    const socket = await this.dial(session.replicaId);
    if (!socket) return undefined;
    const reply = await this.first(socket, { op: 'attach', session_id: session.id });
    if (reply?.type !== 'attached') {
      socket.terminate();
      return undefined;
    }
    return relayTo(socket, viewer);
  }

  close(session: SessionRecord, end: SessionEnd): void {
    if (session.replicaId === this.opts.local.replicaId || !session.replicaId) return this.opts.local.close(session.id, end);
    void this.dial(session.replicaId).then(async (socket) => {
      if (!socket) return;
      await this.first(socket, { op: 'close', session_id: session.id, end });
      socket.close(1000);
    });
  }

  /** The far side: one peer request per socket. */
  private serve(socket: WebSocket): void {
    socket.once('message', (data: RawData, isBinary: boolean) => {
      let request: PeerRequest;
      try {
        if (isBinary) throw new Error('binary');
        request = JSON.parse(rawText(data)) as PeerRequest;
      } catch {
        return socket.close(4400, 'not a peer request');
      }
      const send = (reply: PeerReply) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(reply));
      const { local, logger } = this.opts;
      switch (request.op) {
        case 'open':
          void local.open(request.session).then(
            (start) => send({ type: 'started', start }),
            (err: unknown) => (logger.warn({ err }, 'a peer asked for a shell that could not start'), socket.close(1011)),
          );
          return;
        case 'close':
          local.close(request.session_id, request.end);
          send({ type: 'closed' });
          return;
        case 'attach':
          return serveAttach(socket, local, request.session_id, send);
        default:
          socket.close(4400, 'unknown peer request');
      }
    });
  }

  private trusted(req: IncomingMessage): boolean {
    const header = req.headers[HEADER];
    if (typeof header !== 'string') return false;
    try {
      const at = Number(this.opts.keyring.open(header, CONTEXT));
      return Number.isFinite(at) && Math.abs(Date.now() - at) <= PEER_SKEW_MS;
    } catch {
      return false;
    }
  }

  private async announce(): Promise<void> {
    await this.opts.presence
      .announcePeer(this.opts.local.replicaId, this.url!, this.opts.leaseMs)
      .catch((err: unknown) => this.opts.logger.warn({ err }, 'could not announce the peer address; will retry'));
  }

  /** A socket to the replica `replicaId`, or undefined when it has no live address or does not answer. */
  private async dial(replicaId: string | null): Promise<WebSocket | undefined> {
    const url = replicaId ? await this.opts.presence.peerUrl(replicaId) : undefined;
    if (!url) return undefined;
    const socket = new WebSocket(`${url}${PATH}`, {
      headers: { [HEADER]: this.opts.keyring.seal(String(Date.now()), CONTEXT) },
      handshakeTimeout: PEER_TIMEOUT_MS,
    });
    return new Promise((resolve) => {
      socket.once('open', () => resolve(socket));
      socket.once('error', (err) => {
        this.opts.logger.warn({ err, replica: replicaId }, 'could not reach a peer replica');
        resolve(undefined);
      });
    });
  }

  /** Sends a request; resolves with the first reply, or undefined when the socket closes or times out first. */
  private first(socket: WebSocket, request: PeerRequest): Promise<PeerReply | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), PEER_TIMEOUT_MS);
      socket.once('message', (data: RawData) => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(rawText(data)) as PeerReply);
        } catch {
          resolve(undefined);
        }
      });
      socket.once('close', () => (clearTimeout(timer), resolve(undefined)));
      socket.send(JSON.stringify(request));
    });
  }
}

/** The holding side of a relayed attach: the local session's viewer is this socket. */
function serveAttach(socket: WebSocket, local: SessionChannel, sessionId: string, send: (reply: PeerReply) => void): void {
  // Credits go back to the agent once the far viewer has taken the bytes, in order.
  const taken: Array<() => void> = [];
  // Attaching hands over held output and the notice at once: they follow the `attached` reply.
  let early: Array<Buffer | string> | undefined = [];
  const frame = (f: Buffer | string) => {
    if (early) early.push(f);
    else if (socket.readyState === WebSocket.OPEN) socket.send(f, { binary: typeof f !== 'string' });
  };
  const viewer: SessionViewer = {
    write: (data, onTaken) => {
      taken.push(onTaken);
      frame(data);
    },
    event: (event) => frame(JSON.stringify({ type: 'event', event } satisfies PeerReply)),
    close: (code, reason) => socket.close(code, reason),
  };
  const attachment = local.attach(sessionId, viewer);
  if (!attachment) return socket.close(4404, 'the session is not live here');
  send({ type: 'attached' });
  const queued = early;
  early = undefined;
  for (const f of queued) frame(f);
  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) return attachment.input(rawBuffer(data));
    try {
      const m = JSON.parse(rawText(data)) as PeerControl;
      if (m.type === 'taken') taken.shift()?.();
      if (m.type === 'resize') attachment.resize(m.cols, m.rows);
    } catch {
      // Not a control frame: ignored.
    }
  });
  socket.on('close', () => attachment.detach());
}

/** The viewer's side of a relayed attach: the far session's bytes to the viewer, its input back. */
function relayTo(socket: WebSocket, viewer: SessionViewer): Attachment {
  let detached = false;
  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) {
      viewer.write(rawBuffer(data), () => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify({ type: 'taken' } satisfies PeerControl)));
      return;
    }
    try {
      const reply = JSON.parse(rawText(data)) as PeerReply;
      if (reply.type === 'event') viewer.event(reply.event);
    } catch {
      // Not a reply: ignored.
    }
  });
  socket.on('close', (code, reason) => {
    if (!detached) viewer.close(code === 1005 || code === 1006 ? 1011 : code, reason.toString() || 'the server holding the session went away');
  });
  return {
    input: (data) => socket.readyState === WebSocket.OPEN && socket.send(data, { binary: true }),
    resize: (cols, rows) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify({ type: 'resize', cols, rows } satisfies PeerControl)),
    detach: () => {
      detached = true;
      socket.close(1000);
    },
  };
}

function rawBuffer(data: RawData): Buffer {
  return Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

function rawText(data: RawData): string {
  return rawBuffer(data).toString();
}
