import type { SessionEnd, SessionRecord } from './store.js';

/** What a viewer is told besides terminal bytes. */
export type ViewerEvent =
  { type: 'notice'; message: string } | { type: 'exit'; reason: string; message: string; exit_code: number | null; signal: string | null };

/** A viewer's side of an attached session (a WebSocket, in the native face). */
export interface SessionViewer {
  /** Terminal bytes; `taken` once the viewer's connection has taken them (the agent is then credited). */
  write(data: Buffer, taken: () => void): void;
  event(event: ViewerEvent): void;
  close(code: number, reason: string): void;
}

/** What a viewer does to the session it is attached to. */
export interface Attachment {
  input(data: Buffer): void;
  resize(cols: number, rows: number): void;
  /** The viewer went away; the session goes on (until it exits, idles out or is ended). */
  detach(): void;
}

/** The outcome of asking an agent to start a session's shell. */
export type ShellStart = { ok: true; pty: boolean; notice: string | null } | { ok: false; error: string };

/**
 * How core reaches the agents' shells (the hub implements it). A session
 * lives where its agent's connection does.
 */
export interface SessionLink {
  /** The replica this link is on (recorded on each session opened through it). */
  readonly replicaId: string;
  /** Whether the system's agent is connected here and ready. */
  connected(systemId: string): boolean;
  open(session: SessionRecord): Promise<ShellStart>;
  /** Attaches a viewer to a live session here; undefined when it is not live here. */
  attach(sessionId: string, viewer: SessionViewer): Attachment | undefined;
  /** Ends a live session: the agent kills its shell, the viewer is told why. */
  close(sessionId: string, end: SessionEnd): void;
}

/** A link with no agents (a core without a hub: tools, tests). */
export const NO_SESSION_LINK: SessionLink = {
  replicaId: 'none',
  connected: () => false,
  open: async () => ({ ok: false, error: 'no agents are connected here' }),
  attach: () => undefined,
  close: () => undefined,
};
