import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Logger } from 'pino';
import { SESSION_CHUNK_BYTES, type AgentMessage, type SessionOpen, type Unversioned } from '../protocol/messages.js';
import { resolveRunAs } from './executor.js';
import type { SessionLedger } from './session-ledger.js';
import { loadPty, startShell, type PtyLoader, type SessionShell } from './session-shell.js';

export interface SessionManagerOptions {
  /** The agent's own environment, which shells inherit. */
  env: Record<string, string>;
  /** Sends to the server; false when disconnected. */
  send: (message: Unversioned<AgentMessage>) => boolean;
  logger: Logger;
  /** Between SIGHUP and SIGKILL when a session ends. */
  killGraceMs: number;
  /** Where live shells are written down, for the next agent process should this one die; none in tests. */
  ledger?: SessionLedger;
  /** How node-pty is loaded (tests force the pipe fallback with a loader that fails). */
  ptyLoader?: PtyLoader;
}

interface Live {
  shell: SessionShell | undefined;
  seq: number;
  /** Output bytes the server will still take before it credits more. */
  credit: number;
  paused: boolean;
  /** Input that came while node-pty was loading. */
  early: Array<(shell: SessionShell) => void>;
  closed: boolean;
}

/**
 * The agent's interactive shells, one per session id. Output goes out in
 * chunks against the session's credit; when the credit is spent the PTY is
 * no longer read (so the shell blocks writing) until the server credits
 * what its viewer has taken. Every shell is killed, process group and all,
 * when its session closes, when the link to the server drops, and when the
 * agent stops: a session never outlives the connection it was opened on.
 */
export class SessionManager {
  private readonly sessions = new Map<string, Live>();

  constructor(private readonly o: SessionManagerOptions) {}

  /** Sessions with a live shell. */
  get size(): number {
    return this.sessions.size;
  }

  open(m: Unversioned<SessionOpen>): void {
    if (this.sessions.has(m.session_id)) return;
    const live: Live = { shell: undefined, seq: 0, credit: m.window, paused: false, early: [], closed: false };
    this.sessions.set(m.session_id, live);
    void this.start(m, live);
  }

  input(sessionId: string, data: string): void {
    this.with(sessionId, (shell) => shell.write(Buffer.from(data, 'base64')));
  }

  resize(sessionId: string, cols: number, rows: number): void {
    this.with(sessionId, (shell) => shell.resize(cols, rows));
  }

  credit(sessionId: string, bytes: number): void {
    const live = this.sessions.get(sessionId);
    if (!live) return;
    live.credit += bytes;
    if (live.paused && live.credit > 0) {
      live.paused = false;
      live.shell?.resume();
    }
  }

  /** Ends a session: its shell's process group gets SIGHUP, then SIGKILL; `session.exit` follows once it is gone. */
  close(sessionId: string, reason: string): void {
    const live = this.sessions.get(sessionId);
    if (!live || live.closed) return;
    live.closed = true;
    this.o.logger.info({ session_id: sessionId, reason }, 'ending a session');
    if (live.shell) live.shell.kill(this.o.killGraceMs);
  }

  /** Ends every session (the link dropped, or the agent stops). */
  closeAll(reason: string): void {
    for (const id of this.sessions.keys()) this.close(id, reason);
  }

  private with(sessionId: string, fn: (shell: SessionShell) => void): void {
    const live = this.sessions.get(sessionId);
    if (!live || live.closed) return;
    if (live.shell) fn(live.shell);
    else live.early.push(fn);
  }

  private async start(m: Unversioned<SessionOpen>, live: Live): Promise<void> {
    const log = this.o.logger.child({ session_id: m.session_id });
    const as = resolveRunAs(m.run_as);
    if (typeof as === 'string') return this.failed(m.session_id, as);
    const pty = await loadPty(this.o.ptyLoader);
    if (live.closed) return this.failed(m.session_id, 'the session ended before its shell started');
    let shell: SessionShell;
    try {
      const env = { ...this.o.env, ...(as?.env ?? {}), TERM: 'xterm-256color', MUSTER_SESSION_ID: m.session_id };
      // A user's home may not exist (nobody's is /nonexistent): the shell starts in / then.
      const home = as?.env.HOME ?? this.o.env.HOME ?? tmpdir();
      shell = startShell(pty, { cols: m.cols, rows: m.rows, env, as, cwd: existsSync(home) ? home : '/' });
    } catch (err) {
      return this.failed(m.session_id, `the shell could not start: ${(err as Error).message}`);
    }
    live.shell = shell;
    this.note(log, () => this.o.ledger?.record(m.session_id, shell.pid));
    shell.onData((data) => this.output(m.session_id, live, data));
    shell.onExit((exitCode, signal) => {
      this.sessions.delete(m.session_id);
      this.note(log, () => this.o.ledger?.forget(m.session_id));
      log.info({ exit_code: exitCode, signal }, 'session shell exited');
      this.o.send({ type: 'session.exit', session_id: m.session_id, exit_code: exitCode, signal, error: null });
    });
    if (shell.notice) log.warn({ notice: shell.notice }, 'session without a terminal');
    this.o.send({ type: 'session.opened', session_id: m.session_id, pty: shell.pty, notice: shell.notice });
    for (const fn of live.early.splice(0)) fn(shell);
  }

  /** A ledger write that fails costs only the clean-up after a crash: logged, never fatal. */
  private note(log: Logger, write: () => void): void {
    try {
      write();
    } catch (err) {
      log.warn({ err }, "cannot write down the session's shell; a crash now would leave it running");
    }
  }

  private output(sessionId: string, live: Live, data: Buffer): void {
    for (let at = 0; at < data.length; at += SESSION_CHUNK_BYTES) {
      const chunk = data.subarray(at, at + SESSION_CHUNK_BYTES);
      this.o.send({ type: 'session.output', session_id: sessionId, seq: live.seq++, data: chunk.toString('base64') });
      live.credit -= chunk.length;
    }
    if (live.credit <= 0 && !live.paused) {
      live.paused = true;
      live.shell?.pause();
    }
  }

  private failed(sessionId: string, error: string): void {
    this.sessions.delete(sessionId);
    this.o.logger.warn({ session_id: sessionId, error }, 'session failed to start');
    this.o.send({ type: 'session.exit', session_id: sessionId, exit_code: null, signal: null, error });
  }
}
