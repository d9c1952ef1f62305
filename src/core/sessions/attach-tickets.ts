import type { Actor } from '../access/index.js';
import type { Clock } from '../clock.js';
import { generateSecret, hashSecret } from '../keys/index.js';

/** How long an attach ticket can be redeemed: a browser asks for one just before it opens the socket. */
export const ATTACH_TICKET_TTL_MS = 30_000;
/** Bound on tickets held at once, so a caller minting in a loop cannot grow memory without limit. */
const MAX_TICKETS = 10_000;

interface Held {
  actor: Actor;
  sessionId: string;
  expiresAt: number;
}

/**
 * Single-use tickets that let a browser attach to a session: a browser's
 * WebSocket cannot send an Authorization header, and the API key must stay
 * out of URLs, so an authenticated request mints a ticket for one session
 * and the socket's URL carries that instead. Held in memory by digest: an
 * attach is served by the replica holding the session's live link anyway,
 * and a ticket lost with a restart costs one retry.
 */
export class AttachTickets {
  private readonly held = new Map<string, Held>();

  constructor(private readonly clock: Clock) {}

  /** A ticket standing for `actor` on session `sessionId`, for ATTACH_TICKET_TTL_MS. */
  issue(actor: Actor, sessionId: string): { ticket: string; expiresAt: string } {
    const now = this.clock.now().getTime();
    for (const [digest, t] of this.held) if (t.expiresAt <= now) this.held.delete(digest);
    // Oldest first: a Map iterates in insertion order.
    while (this.held.size >= MAX_TICKETS) this.held.delete(this.held.keys().next().value!);
    const ticket = generateSecret('mat');
    this.held.set(hashSecret(ticket), { actor, sessionId, expiresAt: now + ATTACH_TICKET_TTL_MS });
    return { ticket, expiresAt: new Date(now + ATTACH_TICKET_TTL_MS).toISOString() };
  }

  /** The actor the ticket stands for, using it up; undefined when it is unknown, used, expired or for another session. */
  redeem(ticket: string, sessionId: string): Actor | undefined {
    const digest = hashSecret(ticket);
    const found = this.held.get(digest);
    if (!found) return undefined;
    this.held.delete(digest);
    if (found.sessionId !== sessionId || found.expiresAt <= this.clock.now().getTime()) return undefined;
    return found.actor;
  }
}
