import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { inheritedEnvironment, type AgentConfig } from '../config/agent.js';
import { decodeServerMessage, type ServerMessage } from '../protocol/messages.js';
import { collectFacts } from './facts.js';
import { leftoverNote, OrphanReaper } from './orphans.js';
import { RunManager } from './run-manager.js';
import { SessionLedger } from './session-ledger.js';
import { SessionManager } from './session-manager.js';
import { hangUp } from './session-shell.js';
import { ServerLink } from './server-link.js';
import { Spool } from './spool.js';
import { writeFileAtomic } from './atomic-file.js';
import { ensureCompatLink, loadIdentity, migrateIdentityFile } from './state.js';

export { enrollAgent, type EnrollOptions } from './enroll.js';

export interface AgentDeps {
  /** JSON logs to stdout at the config's level by default. */
  logger?: Logger;
  /** Silence from the server after which the connection is replaced (default 45 s). */
  idleTimeoutMs?: number;
}

/**
 * The agent daemon — the composition root of `muster agent run`: one link to
 * the server, a run manager, a spool, wired together. Reads its identity
 * from the state dir when constructed (throws when not enrolled).
 */
export class Agent {
  readonly systemId: string;
  private readonly logger: Logger;
  private readonly link: ServerLink;
  private readonly runs: RunManager;
  private readonly sessions: SessionManager;
  private readonly ledger: SessionLedger;
  private readonly spool: Spool;
  private readonly reaper: OrphanReaper;
  private readonly killGraceMs: number;
  private readonly workRoot: string;
  private readonly factsIntervalMs: number;
  private factsTimer: NodeJS.Timeout | undefined;
  /** Resolves when the server deleted this system (the daemon then exits). */
  readonly deleted: Promise<void>;
  private markDeleted: () => void = () => undefined;

  constructor(config: Readonly<AgentConfig>, deps: AgentDeps = {}) {
    // An agent.conf from before System Context support may not match the reference script's regex.
    migrateIdentityFile(config.state_dir, (path, content) => writeFileAtomic(path, content));
    const { identity, privateKeyPem } = loadIdentity(config.state_dir);
    ensureCompatLink(config.state_dir);
    this.systemId = identity.systemKey;
    this.logger = deps.logger ?? pino({ level: config.log_level });
    this.spool = new Spool(join(config.state_dir, 'spool'), Date.now, config.output_cap_bytes);
    this.killGraceMs = config.kill_grace_s * 1000;
    this.reaper = new OrphanReaper(this.killGraceMs);
    this.workRoot = join(config.state_dir, 'work');
    this.factsIntervalMs = (config.facts_interval_s ?? 300) * 1000;
    this.deleted = new Promise((resolve) => (this.markDeleted = resolve));
    this.link = new ServerLink({
      identity,
      privateKeyPem,
      logger: this.logger,
      onOpen: () => this.hello(),
      onMessage: (raw) => this.receive(raw),
      // A session lives on the connection it was opened on: no shell is left for a viewer who can no longer reach it.
      onClose: () => this.sessions.closeAll('the agent lost its connection to the server'),
      onDeleted: () => this.markDeleted(),
      ...(deps.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: deps.idleTimeoutMs }),
    });
    this.runs = new RunManager({
      spool: this.spool,
      workRoot: this.workRoot,
      env: inheritedEnvironment(),
      systemEnv: { MUSTER_SYSTEM_ID: identity.systemKey, MUSTER_SERVER: identity.server },
      maxConcurrency: config.max_concurrency,
      killGraceMs: this.killGraceMs,
      outputCap: config.output_cap_bytes,
      send: (m) => this.link.send(m),
      logger: this.logger,
    });
    this.ledger = new SessionLedger(join(config.state_dir, 'sessions'));
    this.sessions = new SessionManager({
      env: inheritedEnvironment(),
      send: (m) => this.link.send(m),
      logger: this.logger,
      killGraceMs: this.killGraceMs,
      ledger: this.ledger,
    });
  }

  /**
   * Recovers the spool, then connects. Runs interrupted by the previous
   * agent process become `lost`, with the output they had printed; scripts
   * it left running are stopped (their process groups get SIGTERM now,
   * SIGKILL after the grace), and their results say so.
   */
  start(): void {
    const lost = this.spool.open((_runId, record) => leftoverNote(this.reaper.terminate(record), record, this.killGraceMs));
    if (lost.length > 0) this.logger.warn({ runs: lost.map((r) => r.run_id) }, 'runs interrupted by the previous agent process are reported lost');
    // Shells of sessions the previous process never ended: their sessions ended with its connection.
    const shells = this.ledger.reapLeftovers((pid) => hangUp(pid, this.killGraceMs));
    if (shells > 0) this.logger.warn({ shells }, 'hung up on session shells left by the previous agent process');
    // Work dirs left by a process that died mid-run; their runs are the lost ones.
    rmSync(this.workRoot, { recursive: true, force: true });
    this.logger.info({ system_id: this.systemId }, 'agent starting');
    this.link.start();
    // Facts change (addresses, uptime, an upgraded OS): report them now and then on the open connection.
    this.factsTimer = setInterval(() => this.link.send({ type: 'facts', facts: collectFacts() }), this.factsIntervalMs);
    this.factsTimer.unref();
  }

  /** Stops running scripts (their results stay spooled, sent if still connected), then the connection. */
  async stop(): Promise<void> {
    clearInterval(this.factsTimer);
    this.reaper.stop();
    this.sessions.closeAll('the agent is stopping');
    await this.runs.stopAll();
    await this.link.stop();
    this.logger.info('agent stopped');
  }

  private hello(): void {
    this.link.send({ type: 'hello', facts: collectFacts(), active_run_ids: this.runs.activeRunIds() });
    this.runs.resendResults();
  }

  private receive(raw: string): void {
    const decoded = decodeServerMessage(raw);
    if (!decoded.ok) {
      this.logger.warn({ error: decoded.error }, 'ignoring an invalid message from the server');
      return;
    }
    try {
      this.handle(decoded.message);
    } catch (err) {
      // A failure on one message (e.g. a full disk) must not take the daemon down.
      this.logger.error({ err, type: decoded.message.type }, 'failed to handle a message from the server');
    }
  }

  private handle(message: ServerMessage): void {
    switch (message.type) {
      case 'run.deliver':
        return this.runs.deliver(message);
      case 'run.ack':
        return this.runs.acknowledge(message.run_id);
      case 'run.cancel':
        return this.runs.cancel(message.run_id);
      case 'session.open':
        return this.sessions.open(message);
      case 'session.input':
        return this.sessions.input(message.session_id, message.data);
      case 'session.resize':
        return this.sessions.resize(message.session_id, message.cols, message.rows);
      case 'session.credit':
        return this.sessions.credit(message.session_id, message.bytes);
      case 'session.close':
        return this.sessions.close(message.session_id, message.reason);
      case 'ping':
        this.link.send({ type: 'pong', id: message.id });
        return;
      case 'error':
        this.logger.warn({ message: message.message }, 'the server reported a protocol error');
        return;
    }
  }
}

/**
 * Runs the agent until SIGTERM or SIGINT, then stops it cleanly; a second
 * signal during the stop exits at once. Resolves when stopped.
 */
export async function runAgent(config: Readonly<AgentConfig>, deps: AgentDeps = {}): Promise<void> {
  const agent = new Agent(config, deps);
  agent.start();
  let stopping = false;
  let onSignal = (): void => undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onSignal = () => {
        if (stopping) process.exit(1);
        stopping = true;
        agent.stop().then(resolve, reject);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      // Deleted on the server (deregistered): nothing left to do; exit cleanly so a supervisor does not restart it.
      void agent.deleted.then(() => onSignal());
    });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
