import { requireRole, type Actor } from '../access/index.js';
import type { AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { invalid, MusterError, notFound } from '../errors.js';
import { isId, newId } from '../ids.js';
import type { SystemRecord, SystemService } from '../systems/index.js';
import { criteriaSelector, matchesCriteria, validCriteria, validCustom } from './criteria.js';
import type { Attachment, SessionLink, SessionViewer } from './link.js';
import { asciicastHeader, Recording } from './recording.js';
import { AttachTickets } from './attach-tickets.js';
import { SessionTickets, type TicketRequest } from './tickets.js';
import type { EndReason, SessionCriteria, SessionEnd, SessionRecord, SessionSettings, SessionState, SessionStore } from './store.js';

/** Server-wide bounds; a session may ask for less. */
export interface SessionLimits {
  idleTimeoutS: number;
  maxDurationS: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { idleTimeoutS: 15 * 60, maxDurationS: 8 * 3600 };
const DEFAULT_SETTINGS: SessionSettings = { recordInput: false, customFields: [] };

/** What opening a session takes: one way of naming the system (criteria and an id together: the id was chosen among the criteria's candidates). */
export interface OpenSession {
  /** A console script's ticket: it carries the criteria, custom fields and user (the request may add only a chosen system_id and the size). */
  ticket?: string | undefined;
  system_id?: string | undefined;
  selector?: string | undefined;
  criteria?: unknown;
  run_as?: string | null | undefined;
  cols?: number | undefined;
  rows?: number | undefined;
  custom?: unknown;
  idle_timeout_s?: number | undefined;
  max_duration_s?: number | undefined;
}

export type OpenResult = { outcome: 'opened'; session: SessionRecord } | { outcome: 'ambiguous'; candidates: SystemRecord[] };

function validUser(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (!/^[a-z_][a-z0-9_.-]{0,63}$/i.test(value)) throw invalid('run_as', 'must be a user name');
  return value;
}

function bounded(value: number | undefined, max: number, field: string): number {
  if (value === undefined) return max;
  if (!Number.isInteger(value) || value < 1) throw invalid(field, 'must be a positive number of seconds');
  if (value > max) throw invalid(field, `must be at most ${max} (the server's limit)`);
  return value;
}

/**
 * Interactive shells on systems. Opening needs an operator; a session is
 * the opener's: attaching to it and ending it is theirs, or an admin's. Every
 * open, choice among candidates, end by an admin and close is audited with
 * who, the criteria and the custom fields.
 */
export class SessionService {
  private readonly tickets: SessionTickets;
  private readonly attachTickets: AttachTickets;

  constructor(
    private readonly store: SessionStore,
    private readonly systems: SystemService,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
    private readonly link: () => SessionLink,
    private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
  ) {
    this.tickets = new SessionTickets(store, clock);
    this.attachTickets = new AttachTickets(store, clock);
  }

  /** Checks a request for a console script and issues its single-use ticket (operator: it opens a shell). */
  async issueTicket(
    actor: Actor,
    input: { criteria: unknown; custom?: unknown; run_as?: string | null },
  ): Promise<{ ticket: string; expiresAt: string; request: TicketRequest }> {
    requireRole(actor, 'operator');
    const settings = (await this.store.getSettings(actor.organizationId)) ?? DEFAULT_SETTINGS;
    const request: TicketRequest = {
      criteria: validCriteria(input.criteria),
      custom: validCustom(input.custom, settings.customFields),
      runAs: validUser(input.run_as),
    };
    const issued = await this.tickets.issue(actor, request);
    // The ticket has no id of its own until a session uses it: the event names the organization, the details what it opens.
    await this.audit.record(
      {
        organizationId: actor.organizationId,
        actor: actor.label,
        action: 'session.ticket',
        targetType: 'organization',
        targetId: actor.organizationId,
        details: { criteria: request.criteria, custom: request.custom, run_as: request.runAs, expires_at: issued.expiresAt },
      },
      this.clock.now(),
    );
    return { ...issued, request };
  }

  /** Finds the one system the request names and starts a shell there; several candidates are an answer, not an error. */
  async open(actor: Actor, request: OpenSession): Promise<OpenResult> {
    requireRole(actor, 'operator');
    const ticket = request.ticket === undefined ? undefined : await this.tickets.check(actor, request.ticket);
    if (ticket && (request.criteria !== undefined || request.selector !== undefined || request.custom !== undefined || request.run_as !== undefined))
      throw invalid('ticket', 'carries the criteria, custom fields and user: send only system_id (a choice) besides it');
    const input: OpenSession = ticket ? { ...request, criteria: ticket.criteria, custom: ticket.custom, run_as: ticket.runAs } : request;
    const settings = (await this.store.getSettings(actor.organizationId)) ?? DEFAULT_SETTINGS;
    const custom = validCustom(input.custom, settings.customFields);
    const idleTimeoutS = bounded(input.idle_timeout_s, this.limits.idleTimeoutS, 'idle_timeout_s');
    const maxDurationS = bounded(input.max_duration_s, this.limits.maxDurationS, 'max_duration_s');
    validUser(input.run_as);
    const criteria = input.criteria === undefined ? null : validCriteria(input.criteria);
    const selector = input.selector ?? (criteria ? criteriaSelector(criteria) : null);
    const found = await this.find(actor, input.system_id, selector, criteria);
    if (found.candidates.length > 1) return { outcome: 'ambiguous', candidates: found.candidates };
    const system = found.candidates[0]!;
    const link = this.link();
    const replicaId = await link.reach(system.id);
    if (!replicaId)
      throw new MusterError(
        'UNAVAILABLE',
        `system ${system.id} (${system.hostname}) is not connected to this server: its agent must be online to open a shell`,
      );
    if (ticket) await this.tickets.use(ticket);
    const now = this.clock.now().toISOString();
    const session: SessionRecord = {
      id: newId(),
      organizationId: actor.organizationId,
      systemId: system.id,
      openedBy: actor.label,
      replicaId,
      runAs: input.run_as ?? null,
      criteria,
      selector: input.selector ?? null,
      custom,
      state: 'opening',
      endReason: null,
      endMessage: null,
      endedBy: null,
      exitCode: null,
      signal: null,
      pty: null,
      notice: null,
      recordInput: settings.recordInput,
      idleTimeoutS,
      maxDurationS,
      cols: input.cols ?? 80,
      rows: input.rows ?? 24,
      createdAt: now,
      startedAt: null,
      endedAt: null,
    };
    await this.store.insertSession(session);
    const details = { system_id: system.id, hostname: system.hostname, run_as: session.runAs, criteria, selector: session.selector, custom };
    if (found.chosen)
      await this.audit.record(
        {
          organizationId: actor.organizationId,
          actor: actor.label,
          action: 'session.choose',
          targetType: 'session',
          targetId: session.id,
          details: { ...details, candidates: found.chosen },
        },
        this.clock.now(),
      );
    await this.audit.record(
      { organizationId: actor.organizationId, actor: actor.label, action: 'session.open', targetType: 'session', targetId: session.id, details },
      this.clock.now(),
    );
    const started = await link.open(session);
    if (!started.ok) {
      await this.ended(session.id, { reason: 'failed_to_start', message: started.error, endedBy: null, exitCode: null, signal: null });
      throw new MusterError('UNAVAILABLE', `the shell could not start on system ${system.id}: ${started.error}`);
    }
    const at = this.clock.now().toISOString();
    await this.store.markActive(session.id, started.pty, started.notice, at);
    return { outcome: 'opened', session: { ...session, state: 'active', pty: started.pty, notice: started.notice, startedAt: at } };
  }

  async list(actor: Actor, filter: { state?: SessionState; limit?: number } = {}): Promise<SessionRecord[]> {
    requireRole(actor, 'viewer');
    return this.store.listSessions(actor.organizationId, { ...(filter.state ? { state: filter.state } : {}), limit: Math.min(filter.limit ?? 100, 1000) });
  }

  async get(actor: Actor, id: string): Promise<SessionRecord> {
    requireRole(actor, 'viewer');
    const session = isId(id) ? await this.store.getSession(actor.organizationId, id) : undefined;
    if (!session) throw notFound('session', id);
    return session;
  }

  /** Ends a session: the opener's own, or anyone's for an admin. */
  async end(actor: Actor, id: string): Promise<SessionRecord> {
    requireRole(actor, 'operator');
    const session = await this.get(actor, id);
    const own = session.openedBy === actor.label;
    if (!own) requireRole(actor, 'admin');
    if (session.state === 'ended') return session;
    const reason: EndReason = own ? 'ended_by_user' : 'ended_by_admin';
    const end: SessionEnd = {
      reason,
      message: own ? `ended by ${actor.label}, who opened it` : `ended by an admin (${actor.label})`,
      endedBy: actor.label,
      exitCode: null,
      signal: null,
    };
    const ended = (await this.ended(id, end)) ?? (await this.get(actor, id));
    this.link().close(session, end);
    return ended;
  }

  /** Attaches a viewer (the opener, or an admin) to a live session. */
  async attach(actor: Actor, id: string, viewer: SessionViewer): Promise<{ session: SessionRecord; attachment: Attachment }> {
    requireRole(actor, 'operator');
    const session = await this.get(actor, id);
    if (session.openedBy !== actor.label) requireRole(actor, 'admin');
    if (session.state === 'ended') throw new MusterError('CONFLICT', `session ${id} has ended (${session.endReason}: ${session.endMessage})`);
    const attachment = await this.link().attach(session, viewer);
    if (!attachment) throw new MusterError('UNAVAILABLE', `session ${id} is not live on this server`);
    await this.audit.record(
      { organizationId: actor.organizationId, actor: actor.label, action: 'session.attach', targetType: 'session', targetId: id },
      this.clock.now(),
    );
    return { session, attachment };
  }

  /**
   * A single-use ticket to attach to a session, for a browser whose WebSocket
   * cannot send the API key: checked as an attach is (the opener, or an
   * admin; not ended), and good for one attach within 30 seconds.
   */
  async issueAttachTicket(actor: Actor, id: string): Promise<{ ticket: string; expiresAt: string }> {
    requireRole(actor, 'operator');
    const session = await this.get(actor, id);
    if (session.openedBy !== actor.label) requireRole(actor, 'admin');
    if (session.state === 'ended') throw new MusterError('CONFLICT', `session ${id} has ended (${session.endReason}: ${session.endMessage})`);
    const issued = await this.attachTickets.issue(actor, session.id);
    await this.audit.record(
      { organizationId: actor.organizationId, actor: actor.label, action: 'session.attach_ticket', targetType: 'session', targetId: id },
      this.clock.now(),
    );
    return issued;
  }

  /** The actor an attach ticket stands for, using it up; undefined when it does not hold for session `id`. */
  redeemAttachTicket(ticket: string, id: string): Promise<Actor | undefined> {
    return this.attachTickets.redeem(ticket, id);
  }

  /** The session's recording, asciicast v2 (header line, then event lines). */
  async recording(actor: Actor, id: string): Promise<string> {
    const session = await this.get(actor, id);
    return `${asciicastHeader(session)}\n${await this.store.readRecording(session.id)}`;
  }

  async settings(actor: Actor): Promise<SessionSettings> {
    requireRole(actor, 'viewer');
    return (await this.store.getSettings(actor.organizationId)) ?? DEFAULT_SETTINGS;
  }

  async changeSettings(actor: Actor, settings: SessionSettings): Promise<SessionSettings> {
    requireRole(actor, 'admin');
    for (const [i, code] of settings.customFields.entries())
      if (!/^[a-z0-9_]{1,64}$/i.test(code)) throw invalid(`custom_fields[${i}]`, 'must be a field code of letters, digits and _');
    await this.store.putSettings(actor.organizationId, settings);
    await this.audit.record(
      {
        organizationId: actor.organizationId,
        actor: actor.label,
        action: 'session.settings',
        targetType: 'organization',
        targetId: actor.organizationId,
        details: { record_input: settings.recordInput, custom_fields: settings.customFields },
      },
      this.clock.now(),
    );
    return settings;
  }

  /** A session ended (its shell exited, it idled out, its agent went away…): stored and audited once. */
  async ended(id: string, end: SessionEnd): Promise<SessionRecord | undefined> {
    const session = await this.store.endSession(id, end, this.clock.now().toISOString());
    if (!session) return undefined;
    const action = end.reason === 'ended_by_admin' ? 'session.end_by_admin' : 'session.close';
    await this.audit.record(
      {
        organizationId: session.organizationId,
        actor: end.endedBy ?? `system:${session.systemId}`,
        action,
        targetType: 'session',
        targetId: id,
        details: {
          reason: end.reason,
          message: end.message,
          exit_code: end.exitCode,
          signal: end.signal,
          opened_by: session.openedBy,
          criteria: session.criteria,
          custom: session.custom,
        },
      },
      this.clock.now(),
    );
    return session;
  }

  /** A recorder for a live session's output (and input, when the organization records it). */
  recorder(session: SessionRecord, onError: (err: unknown) => void): Recording {
    const now = () => this.clock.now().getTime();
    return new Recording(this.store, session.id, now(), session.recordInput, onError, now);
  }

  /**
   * Ends the sessions whose agent connection is gone without a replica saying
   * so (the replica holding it died): a session lives on the connection it
   * was opened on, so once the system's presence lease is held by another
   * replica, or by none, its shell is gone too. `liveHere` are the sessions
   * live on the calling replica, which are never touched.
   */
  async sweepDetached(liveHere: ReadonlySet<string>): Promise<number> {
    const open = (await this.store.listUnfinished(1000)).filter((s) => !liveHere.has(s.id));
    if (open.length === 0) return 0;
    const holders = await this.systems.holders([...new Set(open.map((s) => s.systemId))]);
    let ended = 0;
    for (const s of open) {
      if (holders.get(s.systemId) === s.replicaId) continue;
      const end: SessionEnd = {
        reason: 'agent_disconnected',
        message: `the agent of system ${s.systemId} is no longer connected to the server the session was opened on`,
        endedBy: null,
        exitCode: null,
        signal: null,
      };
      if (await this.ended(s.id, end)) ended++;
    }
    return ended;
  }

  /** Ends what a previous single-node server left open (its shells went with its connections). */
  async endUnfinished(): Promise<number> {
    return this.store.endUnfinished(
      { reason: 'server_stopped', message: 'the server stopped while the session was open', endedBy: null, exitCode: null, signal: null },
      this.clock.now().toISOString(),
    );
  }

  private async find(
    actor: Actor,
    systemId: string | undefined,
    selector: string | null,
    criteria: SessionCriteria | null,
  ): Promise<{ candidates: SystemRecord[]; chosen?: string[] }> {
    const matching = async () => {
      if (selector === null) return [];
      const listed = await this.systems.list(actor, selector);
      return criteria ? listed.filter((s) => matchesCriteria(s, criteria)) : listed;
    };
    if (systemId !== undefined) {
      const system = await this.systems.get(actor, systemId);
      if (selector === null) return { candidates: [system] };
      // Chosen among candidates: it must be one of them.
      const candidates = await matching();
      if (!candidates.some((c) => c.id === system.id)) throw invalid('system_id', `system ${systemId} does not match the criteria`);
      return { candidates: [system], chosen: candidates.map((c) => c.id) };
    }
    if (selector === null) throw invalid('body', 'name the system: system_id, selector or criteria');
    const candidates = await matching();
    if (candidates.length === 0)
      throw new MusterError(
        'NOT_FOUND',
        criteria ? `no system matches the criteria ${JSON.stringify(criteria)}` : `no system matches the selector ${selector}`,
      );
    return { candidates };
  }
}
