import type { Kysely } from 'kysely';
import type { SystemStore } from '../../core/systems/store.js';
import type { SessionStore } from '../../core/sessions/store.js';
import type { Schema } from '../schema.js';

interface ReplicaPeerTable {
  replica_id: string;
  peer_url: string;
  expires_at: string;
}

interface AttachTicketTable {
  digest: string;
  organization_id: string;
  actor: string;
  session_id: string;
  expires_at: string;
}

interface PeerSchema {
  replica_peers: ReplicaPeerTable;
  attach_tickets: AttachTicketTable;
}

/** Each replica's peer address under a lease (see migration 0022). */
export function replicaPeerStore(database: Kysely<Schema>): Pick<SystemStore, 'announcePeer' | 'peerUrl' | 'withdrawPeer'> {
  // Its own tables, typed here rather than in the shared schema.
  const db = database as unknown as Kysely<PeerSchema>;
  return {
    async announcePeer(replicaId, peerUrl, expiresAt) {
      await db
        .insertInto('replica_peers')
        .values({ replica_id: replicaId, peer_url: peerUrl, expires_at: expiresAt })
        .onConflict((oc) => oc.column('replica_id').doUpdateSet({ peer_url: peerUrl, expires_at: expiresAt }))
        .execute();
    },
    async peerUrl(replicaId, now) {
      const row = await db.selectFrom('replica_peers').select('peer_url').where('replica_id', '=', replicaId).where('expires_at', '>', now).executeTakeFirst();
      return row?.peer_url;
    },
    async withdrawPeer(replicaId) {
      await db.deleteFrom('replica_peers').where('replica_id', '=', replicaId).execute();
    },
  };
}

/** Attach tickets by digest, taken (deleted) once (see core/sessions/attach-tickets.ts). */
export function attachTicketStore(database: Kysely<Schema>): Pick<SessionStore, 'insertAttachTicket' | 'takeAttachTicket'> {
  const db = database as unknown as Kysely<PeerSchema>;
  return {
    async insertAttachTicket(t, now) {
      await db.deleteFrom('attach_tickets').where('expires_at', '<=', now).execute();
      await db
        .insertInto('attach_tickets')
        .values({ digest: t.digest, organization_id: t.actor.organizationId, actor: JSON.stringify(t.actor), session_id: t.sessionId, expires_at: t.expiresAt })
        .execute();
    },
    async takeAttachTicket(digest) {
      const row = await db.deleteFrom('attach_tickets').where('digest', '=', digest).returning(['actor', 'session_id', 'expires_at']).executeTakeFirst();
      return row ? { actor: JSON.parse(row.actor), sessionId: row.session_id, expiresAt: row.expires_at } : undefined;
    },
  };
}
