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
 * lives where its agent's connection does: on the replica (or worker)
 * holding it, which the link reaches from any other through its peers.
 */
export interface SessionLink {
  /** The replica that would hold a session on this system (this one, or a peer holding its agent); undefined when none can. */
  reach(systemId: string): Promise<string | undefined>;
  /** Starts the shell on the session's replica. */
  open(session: SessionRecord): Promise<ShellStart>;
  /** Attaches a viewer to a live session, wherever it lives; undefined when it is not live. */
  attach(session: SessionRecord, viewer: SessionViewer): Promise<Attachment | undefined>;
  /** Ends a live session: the agent kills its shell, the viewer is told why. */
  close(session: SessionRecord, end: SessionEnd): void;
}

/** A link with no agents (a core without a hub: tools, tests). */
export const NO_SESSION_LINK: SessionLink = {
  reach: async () => undefined,
  open: async () => ({ ok: false, error: 'no agents are connected here' }),
  attach: async () => undefined,
  close: () => undefined,
};
