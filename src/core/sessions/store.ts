import type { Actor } from '../access/index.js';
/** Where a session is: its shell starting, running, or gone (`endReason` says why). */
export type SessionState = 'opening' | 'active' | 'ended';

/** Why a session ended. */
export const END_REASONS = [
  'exited',
  'failed_to_start',
  'ended_by_user',
  'ended_by_admin',
  'idle_timeout',
  'max_duration',
  'agent_disconnected',
  'server_stopped',
] as const;
export type EndReason = (typeof END_REASONS)[number];

/** The criteria a session was opened by (BeyondTrust's `client.*` and `search_string`), each matched partially and case-insensitively. */
export interface SessionCriteria {
  hostname?: string;
  comments?: string;
  tag?: string;
  private_ip?: string;
  public_ip?: string;
  search?: string;
}

export interface SessionRecord {
  id: string;
  organizationId: string;
  systemId: string;
  /** The actor that opened it (`api_key:<id>`). */
  openedBy: string;
  /** The server replica that holds its agent's connection (the session lives on that connection). */
  replicaId: string | null;
  /** The system user the shell runs as; null: the agent's own. */
  runAs: string | null;
  criteria: SessionCriteria | null;
  selector: string | null;
  custom: Record<string, string>;
  state: SessionState;
  endReason: EndReason | null;
  /** Human explanation of the end ("the agent of system … disconnected"). */
  endMessage: string | null;
  endedBy: string | null;
  exitCode: number | null;
  signal: string | null;
  /** Whether the shell has a real terminal (null until it started). */
  pty: boolean | null;
  notice: string | null;
  recordInput: boolean;
  idleTimeoutS: number;
  maxDurationS: number;
  cols: number;
  rows: number;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

/** How a session ended. */
export interface SessionEnd {
  reason: EndReason;
  message: string;
  endedBy: string | null;
  exitCode: number | null;
  signal: string | null;
}

/** An organization's session settings. */
export interface SessionSettings {
  /** Record keystrokes too, not only output. */
  recordInput: boolean;
  /** The custom field codes `session.custom.<code>` may use (BeyondTrust's configured fields). */
  customFields: string[];
}

/** A console script's ticket, as stored (the secret itself never is). */
export interface SessionTicket {
  digest: string;
  organizationId: string;
  /** The actor (API key) that generated it, the only one that may redeem it. */
  issuedTo: string;
  criteria: SessionCriteria;
  custom: Record<string, string>;
  runAs: string | null;
  expiresAt: string;
  usedAt: string | null;
}

/** Storage of sessions, their recordings, tickets and settings. */
export interface SessionStore {
  insertSession(session: SessionRecord): Promise<void>;
  getSession(organizationId: string, id: string): Promise<SessionRecord | undefined>;
  /** Newest first. */
  listSessions(organizationId: string, filter: { state?: SessionState; limit: number }): Promise<SessionRecord[]>;
  /** `opening` → `active`; false when it is no longer opening. */
  markActive(id: string, pty: boolean, notice: string | null, at: string): Promise<boolean>;
  /** Ends a session that has not ended; the ended record, or undefined when it already had. */
  endSession(id: string, end: SessionEnd, at: string): Promise<SessionRecord | undefined>;
  /** Sessions not yet ended, in every organization, oldest first (for the sweep of sessions whose connection is gone). */
  listUnfinished(limit: number): Promise<SessionRecord[]>;
  /** Ends every session not yet ended (a single node starting: no shell survived its predecessor). */
  endUnfinished(end: SessionEnd, at: string): Promise<number>;
  /** Appends recording lines (asciicast v2 event lines, newline-terminated) as part `seq`. */
  appendRecording(sessionId: string, seq: number, lines: string): Promise<void>;
  /** The recording's event lines, in order. */
  readRecording(sessionId: string): Promise<string>;
  insertTicket(ticket: SessionTicket): Promise<void>;
  getTicket(digest: string): Promise<SessionTicket | undefined>;
  /** Marks an unused ticket used; false when it already was. */
  useTicket(digest: string, at: string): Promise<boolean>;
  getSettings(organizationId: string): Promise<SessionSettings | undefined>;
  putSettings(organizationId: string, settings: SessionSettings): Promise<void>;
  /** Stores an attach ticket by digest (dropping expired ones). */
  insertAttachTicket(ticket: HeldAttachTicket, now: string): Promise<void>;
  /** Removes and returns a ticket: a second take of the same one finds nothing. */
  takeAttachTicket(digest: string): Promise<Omit<HeldAttachTicket, 'digest'> | undefined>;
}

/** An attach ticket as stored: its digest, who it stands for, for which session, until when. */
export interface HeldAttachTicket {
  digest: string;
  actor: Actor;
  sessionId: string;
  expiresAt: string;
}
