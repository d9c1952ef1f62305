import type { Actor } from '../access/index.js';
import type { Clock } from '../clock.js';
import { generateSecret, hashSecret } from '../keys/index.js';
import type { SessionStore } from './store.js';

/** How long an attach ticket can be redeemed: a browser asks for one just before it opens the socket. */
export const ATTACH_TICKET_TTL_MS = 30_000;
/**
 * Single-use tickets that let a browser attach to a session: a browser's
 * WebSocket cannot send an Authorization header, and the API key must stay
 * out of URLs, so an authenticated request mints a ticket for one session
 * and the socket's URL carries that instead. Kept in the database by
 * digest: the request that mints it and the socket that redeems it may
 * reach different replicas (or workers).
 */
export class AttachTickets {
  constructor(
    private readonly store: Pick<SessionStore, 'insertAttachTicket' | 'takeAttachTicket'>,
    private readonly clock: Clock,
  ) {}

  /** A ticket standing for `actor` on session `sessionId`, for ATTACH_TICKET_TTL_MS. */
  async issue(actor: Actor, sessionId: string): Promise<{ ticket: string; expiresAt: string }> {
    const now = this.clock.now();
    const ticket = generateSecret('mat');
    const expiresAt = new Date(now.getTime() + ATTACH_TICKET_TTL_MS).toISOString();
    await this.store.insertAttachTicket({ digest: hashSecret(ticket), actor, sessionId, expiresAt }, now.toISOString());
    return { ticket, expiresAt };
  }

  /** The actor the ticket stands for, using it up; undefined when it is unknown, used, expired or for another session. */
  async redeem(ticket: string, sessionId: string): Promise<Actor | undefined> {
    const found = await this.store.takeAttachTicket(hashSecret(ticket));
    if (!found || found.sessionId !== sessionId || found.expiresAt <= this.clock.now().toISOString()) return undefined;
    return found.actor;
  }
}
