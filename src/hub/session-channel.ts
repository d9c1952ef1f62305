import type { Logger } from 'pino';
import type { Attachment, Recording, SessionEnd, SessionLink, SessionRecord, SessionService, SessionViewer, ShellStart } from '../core/sessions/index.js';
import { SESSION_CHUNK_BYTES, SESSION_WINDOW_BYTES, type AgentMessage } from '../protocol/messages.js';
import type { Channel, FamilyMessage, HubConnection } from './channel.js';
import type { ConnectionRegistry } from './connection-registry.js';

export interface SessionChannelOptions {
  sessions: Pick<SessionService, 'ended' | 'recorder' | 'sweepDetached'>;
  connections: ConnectionRegistry;
  /** This replica: recorded on the sessions it opens. */
  replicaId: string;
  /** How often sessions whose replica went away are looked for (default 30 s). */
  sweepIntervalMs?: number;
  logger: Logger;
  /** Output bytes in flight per session before the agent waits for credit. */
  windowBytes?: number;
  /** How long an agent has to start a shell. */
  openTimeoutMs?: number;
}

/**
 * Session messages queue apart from run messages (a queue per family per
 * connection), so a keystroke's echo never waits behind a run's output
 * insert; 1,000 of 16 KiB bound one agent's waiting output to 16 MiB, and
 * the credit window bounds it per session far below that.
 */
const SESSION_QUEUE = 1000;

interface Live {
  session: SessionRecord;
  conn: HubConnection;
  starting: ((start: ShellStart) => void) | undefined;
  viewer: SessionViewer | undefined;
  /** Output that came while no viewer was attached (at most the window: the agent waits for credit). */
  held: Buffer[];
  recording: Recording;
  idle: NodeJS.Timeout | undefined;
  max: NodeJS.Timeout | undefined;
  /** Set once the session is being ended from here (the agent's exit is then only confirmation). */
  end: SessionEnd | undefined;
}

/**
 * The `session.*` family: the live sessions of the agents connected here.
 * Bytes pass straight through (agent → viewer, viewer → agent), recorded on
 * the side; the viewer's socket credits the agent as it takes output. The
 * channel holds each session's idle and maximum-duration timers, and ends a
 * session whose agent disconnects.
 */
export class SessionChannel implements Channel {
  readonly family = 'session';
  readonly maxQueued = SESSION_QUEUE;
  private readonly live = new Map<string, Live>();
  private readonly window: number;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly opts: SessionChannelOptions) {
    this.window = opts.windowBytes ?? SESSION_WINDOW_BYTES;
  }

  get replicaId(): string {
    return this.opts.replicaId;
  }

  /** Starts the sweep for sessions another replica left behind when it died (every replica runs it; ending is idempotent). */
  start(): void {
    this.sweeper = setInterval(() => {
      this.opts.sessions
        .sweepDetached(new Set(this.live.keys()))
        .catch((err: unknown) => this.opts.logger.warn({ err }, 'sweeping detached sessions failed; will retry'));
    }, this.opts.sweepIntervalMs ?? 30_000);
    this.sweeper.unref();
  }

  connected(systemId: string): boolean {
    return this.opts.connections.ready([systemId]).length === 1;
  }

  open(session: SessionRecord): Promise<ShellStart> {
    const conn = this.opts.connections.get(session.systemId);
    if (!conn || !conn.helloReceived) return Promise.resolve({ ok: false, error: 'the agent is not connected to this server' });
    const recording = this.opts.sessions.recorder(session, (err) =>
      this.opts.logger.warn({ err, session_id: session.id }, 'could not store part of a session recording'),
    );
    const live: Live = { session, conn, starting: undefined, viewer: undefined, held: [], recording, idle: undefined, max: undefined, end: undefined };
    this.live.set(session.id, live);
    const started = new Promise<ShellStart>((resolve) => {
      const timer = setTimeout(
        () => resolve({ ok: false, error: `the agent did not start the shell within ${(this.opts.openTimeoutMs ?? 15_000) / 1000} s` }),
        this.opts.openTimeoutMs ?? 15_000,
      );
      live.starting = (start) => (clearTimeout(timer), resolve(start));
    });
    conn.send({ type: 'session.open', session_id: session.id, run_as: session.runAs, cols: session.cols, rows: session.rows, window: this.window });
    return started.then((start) => {
      live.starting = undefined;
      if (!start.ok) {
        this.forget(live);
        conn.send({ type: 'session.close', session_id: session.id, reason: start.error });
        return start;
      }
      this.touch(live);
      live.max = setTimeout(
        () =>
          this.close(session.id, {
            reason: 'max_duration',
            message: `the session reached its maximum duration of ${session.maxDurationS} s`,
            endedBy: null,
            exitCode: null,
            signal: null,
          }),
        session.maxDurationS * 1000,
      );
      live.max.unref();
      return start;
    });
  }

  attach(sessionId: string, viewer: SessionViewer): Attachment | undefined {
    const live = this.live.get(sessionId);
    if (!live || live.end || live.starting) return undefined;
    live.viewer?.close(4000, 'another viewer attached to this session');
    live.viewer = viewer;
    if (live.session.notice) viewer.event({ type: 'notice', message: live.session.notice });
    for (const data of live.held.splice(0)) this.toViewer(live, data);
    return {
      input: (data) => {
        if (live.end) return;
        this.touch(live);
        live.recording.input(data);
        for (let at = 0; at < data.length; at += SESSION_CHUNK_BYTES) {
          live.conn.send({ type: 'session.input', session_id: sessionId, data: data.subarray(at, at + SESSION_CHUNK_BYTES).toString('base64') });
        }
      },
      resize: (cols, rows) => {
        if (live.end) return;
        live.recording.resize(cols, rows);
        live.conn.send({ type: 'session.resize', session_id: sessionId, cols, rows });
      },
      detach: () => {
        if (live.viewer === viewer) live.viewer = undefined;
      },
    };
  }

  close(sessionId: string, end: SessionEnd): void {
    const live = this.live.get(sessionId);
    if (!live || live.end) return;
    live.end = end;
    live.conn.send({ type: 'session.close', session_id: sessionId, reason: end.message });
    void this.record(live, end);
  }

  async handle(conn: HubConnection, raw: FamilyMessage): Promise<void> {
    const message = raw as AgentMessage;
    if (!('session_id' in message)) return;
    const live = this.live.get(message.session_id);
    // Another system's session, or one that is over: ignored.
    if (!live || live.conn !== conn) return;
    switch (message.type) {
      case 'session.opened':
        live.session = { ...live.session, pty: message.pty, notice: message.notice };
        live.starting?.({ ok: true, pty: message.pty, notice: message.notice });
        return;
      case 'session.output': {
        const data = Buffer.from(message.data, 'base64');
        live.recording.output(data);
        if (live.viewer) this.toViewer(live, data);
        else live.held.push(data);
        return;
      }
      case 'session.exit': {
        if (live.starting) {
          live.starting({ ok: false, error: message.error ?? 'the shell exited at once' });
          return;
        }
        const end = live.end ?? exitEnd(message.exit_code, message.signal, message.error);
        await this.finish(live, { ...end, exitCode: message.exit_code, signal: message.signal });
        return;
      }
    }
  }

  /** The agent went away: its sessions end, and their viewers are told why. */
  disconnected(conn: HubConnection): void {
    for (const live of this.live.values()) {
      if (live.conn !== conn) continue;
      live.starting?.({ ok: false, error: 'the agent disconnected' });
      const end = live.end ?? {
        reason: 'agent_disconnected' as const,
        message: `the agent of system ${conn.systemId} disconnected`,
        endedBy: null,
        exitCode: null,
        signal: null,
      };
      void this.finish(live, end);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    const end: SessionEnd = { reason: 'server_stopped', message: 'the server is shutting down', endedBy: null, exitCode: null, signal: null };
    await Promise.all(
      [...this.live.values()].map(
        (live) => (live.conn.send({ type: 'session.close', session_id: live.session.id, reason: end.message }), this.finish(live, live.end ?? end)),
      ),
    );
  }

  private toViewer(live: Live, data: Buffer): void {
    // Credited once the viewer's socket has written them: a viewer that stops reading stops the credits, then the shell.
    live.viewer!.write(data, () => live.conn.send({ type: 'session.credit', session_id: live.session.id, bytes: data.length }));
  }

  private touch(live: Live): void {
    clearTimeout(live.idle);
    live.idle = setTimeout(
      () =>
        this.close(live.session.id, {
          reason: 'idle_timeout',
          message: `no input for ${live.session.idleTimeoutS} s`,
          endedBy: null,
          exitCode: null,
          signal: null,
        }),
      live.session.idleTimeoutS * 1000,
    );
    live.idle.unref();
  }

  private async finish(live: Live, end: SessionEnd): Promise<void> {
    this.forget(live);
    await live.recording.flush();
    await this.record(live, end);
    live.viewer?.event({ type: 'exit', reason: end.reason, message: end.message, exit_code: end.exitCode, signal: end.signal });
    live.viewer?.close(1000, end.reason);
  }

  private forget(live: Live): void {
    clearTimeout(live.idle);
    clearTimeout(live.max);
    if (this.live.get(live.session.id) === live) this.live.delete(live.session.id);
  }

  private async record(live: Live, end: SessionEnd): Promise<void> {
    await this.opts.sessions
      .ended(live.session.id, end)
      .catch((err: unknown) => this.opts.logger.warn({ err, session_id: live.session.id }, 'could not record the end of a session'));
  }
}

/** The session link of a replica without peers: its own agents' sessions only. */
export function localSessionLink(channel: SessionChannel): SessionLink {
  return {
    reach: async (systemId) => (channel.connected(systemId) ? channel.replicaId : undefined),
    open: (session) => channel.open(session),
    attach: async (session, viewer) => channel.attach(session.id, viewer),
    close: (session, end) => channel.close(session.id, end),
  };
}

function exitEnd(exitCode: number | null, signal: string | null, error: string | null): SessionEnd {
  const message = error ?? (signal ? `the shell was killed by ${signal}` : `the shell exited with status ${exitCode}`);
  return { reason: 'exited', message, endedBy: null, exitCode, signal };
}
