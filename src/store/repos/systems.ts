import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Selector } from '../../core/selectors/index.js';
import type { AgentFactsInput, SystemRecord, SystemStore } from '../../core/systems/index.js';
import { selectorWhere } from '../selectors.js';
import { applySystemPatch, deleteSystemRow, insertMemberships, querySystemPage } from './system-inventory.js';
import { chunks } from '../chunks.js';
import type { Schema, SystemTable } from '../schema.js';
import { auditSink } from './audit.js';
import { fromJson, toJson } from './json.js';

function toRecord(row: Selectable<SystemTable>): SystemRecord {
  return {
    id: row.id,
    organizationId: row.organization_id,
    hostname: row.hostname,
    displayName: row.display_name,
    os: row.os,
    osRelease: row.os_release,
    arch: row.arch,
    kernel: row.kernel,
    agentVersion: row.agent_version,
    ipAddresses: fromJson<string[]>(row.ip_addresses, []),
    publicIp: row.public_ip,
    tags: fromJson<string[]>(row.tags, []),
    facts: fromJson<Record<string, unknown>>(row.facts, {}),
    description: row.description,
    attributes: fromJson<Record<string, string>>(row.attributes, {}),
    certname: row.certname ?? null,
    publicKey: row.public_key,
    // Judged against the clock by the service; the stored lease is the fact.
    connected: false,
    presence: row.replica_id && row.lease_expires_at ? { replicaId: row.replica_id, expiresAt: row.lease_expires_at } : null,
    createdAt: row.created_at,
    lastContact: row.last_contact,
  };
}

/** One system's row, tags and memberships, inside the caller's transaction. */
async function insertSystemRow(tx: Transaction<Schema>, s: SystemRecord, groupIds: string[]): Promise<void> {
  await tx
    .insertInto('systems')
    .values({
      id: s.id,
      organization_id: s.organizationId,
      hostname: s.hostname,
      display_name: s.displayName,
      os: s.os,
      os_release: s.osRelease,
      arch: s.arch,
      kernel: s.kernel,
      agent_version: s.agentVersion,
      ip_addresses: toJson(s.ipAddresses),
      public_ip: s.publicIp,
      tags: toJson(s.tags),
      facts: toJson(s.facts),
      public_key: s.publicKey,
      connected: s.connected ? 1 : 0,
      created_at: s.createdAt,
      last_contact: s.lastContact,
      description: s.description,
      attributes: toJson(s.attributes),
    })
    .execute();
  if (s.tags.length > 0)
    await tx
      .insertInto('system_tags')
      .values(s.tags.map((tag) => ({ system_id: s.id, tag })))
      .execute();
  await insertMemberships(tx, s.organizationId, s.id, groupIds);
}

/** Systems on Kysely. */
/** The columns an agent's reported facts set, with the address it reported from and when. */
function factColumns(f: AgentFactsInput, publicIp: string | null, at: string) {
  return {
    os: f.os,
    os_release: f.os_release,
    arch: f.arch,
    kernel: f.kernel ?? '',
    agent_version: f.agent_version,
    ip_addresses: toJson(f.ip_addresses),
    facts: toJson(f),
    public_ip: publicIp,
    last_contact: at,
  };
}

export function systemStore(db: Kysely<Schema>): Omit<SystemStore, 'announcePeer' | 'peerUrl' | 'withdrawPeer'> {
  return {
    async insertSystem(s, groupIds = []) {
      await db.transaction().execute((tx) => insertSystemRow(tx, s, groupIds));
    },
    async insertEnrolled(items) {
      await db.transaction().execute(async (tx) => {
        // The audit events go through the audit sink, inside this transaction.
        const audit = auditSink(tx);
        for (const { system, groupIds, audit: event, at } of items) {
          await insertSystemRow(tx, system, groupIds);
          await audit.record(event, at);
        }
      });
    },
    async getSystem(organizationId, id) {
      const row = await db.selectFrom('systems').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async findSystemForAuth(id) {
      const row = await db.selectFrom('systems').select(['organization_id', 'public_key']).where('id', '=', id).executeTakeFirst();
      return row && { organizationId: row.organization_id, publicKey: row.public_key };
    },
    async listSystems(organizationId, selector?: Selector) {
      let q = db.selectFrom('systems').selectAll().where('organization_id', '=', organizationId);
      if (selector) q = q.where((eb) => selectorWhere(eb, selector));
      const rows = await q.orderBy('hostname').orderBy('id').execute();
      return rows.map(toRecord);
    },
    async pageSystems(organizationId, page, now) {
      const matching = () => {
        const q = db.selectFrom('systems').where('organization_id', '=', organizationId);
        return page.selector ? q.where((eb) => selectorWhere(eb, page.selector!)) : q;
      };
      const counted = await matching()
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirst();
      const dir = page.desc ? 'desc' : 'asc';
      // The same order on both databases: NULLs (never contacted) sort as the empty string.
      const key =
        page.sort === 'connected'
          ? sql<number>`case when lease_expires_at > ${now} then 1 else 0 end`
          : page.sort === 'last_contact'
            ? sql<string>`coalesce(last_contact, '')`
            : sql.ref<string>(page.sort);
      const rows = await matching().selectAll().orderBy(key, dir).orderBy('id', dir).limit(page.limit).offset(page.offset).execute();
      return { total: Number(counted?.n ?? 0), items: rows.map(toRecord) };
    },
    async querySystems(organizationId, query, now) {
      const page = await querySystemPage(db, organizationId, query, now);
      return { total: page.total, items: page.rows.map(toRecord) };
    },
    updateSystem: (organizationId, id, patch) => applySystemPatch(db, organizationId, id, patch),
    deleteSystem: (organizationId, id) => deleteSystemRow(db, organizationId, id),
    async selectSystemIds(organizationId, selector) {
      const rows = await db
        .selectFrom('systems')
        .select('id')
        .where('organization_id', '=', organizationId)
        .where((eb) => selectorWhere(eb, selector))
        .orderBy('id')
        .execute();
      return rows.map((r) => r.id);
    },
    async existingSystemIds(organizationId, ids) {
      const found: string[] = [];
      // By id alone, the organization checked here: with no statistics SQLite's planner reads the
      // organization's index instead, every system of it for each 500 ids (~30 ms a chunk at 10,000 systems).
      for (const part of chunks(ids)) {
        const rows = await db.selectFrom('systems').select(['id', 'organization_id']).where('id', 'in', part).execute();
        for (const r of rows) if (r.organization_id === organizationId) found.push(r.id);
      }
      return found;
    },
    async allSystemIds(organizationId) {
      const rows = await db.selectFrom('systems').select('id').where('organization_id', '=', organizationId).orderBy('id').execute();
      return rows.map((r) => r.id);
    },
    async hostnames(ids) {
      const out = new Map<string, string>();
      for (const part of chunks(ids)) {
        const rows = await db.selectFrom('systems').select(['id', 'hostname']).where('id', 'in', part).execute();
        for (const r of rows) out.set(r.id, r.hostname);
      }
      return out;
    },
    async recordConnect(id, f, publicIp, at, lease) {
      await db
        .updateTable('systems')
        .set({ ...factColumns(f, publicIp, at), hostname: f.hostname, connected: 1, replica_id: lease.replicaId, lease_expires_at: lease.expiresAt })
        .where('id', '=', id)
        .execute();
    },
    async recordFacts(id, f, publicIp, at) {
      await db
        .updateTable('systems')
        .set(factColumns(f, publicIp, at))
        .where('id', '=', id)
        .execute();
    },
    async recordDisconnect(id, replicaId, at) {
      await db
        .updateTable('systems')
        .set({ connected: 0, replica_id: null, lease_expires_at: null, last_contact: at })
        .where('id', '=', id)
        .where('replica_id', '=', replicaId)
        .execute();
    },
    async renewLeases(ids, lease, at) {
      for (const part of chunks(ids)) {
        await db
          .updateTable('systems')
          .set({ lease_expires_at: lease.expiresAt, last_contact: at })
          .where('id', 'in', part)
          // Not through the replica's index, which SQLite's planner prefers without statistics: it
          // would read every system this replica holds for each 500 ids.
          .where(sql`coalesce(replica_id, '')`, '=', lease.replicaId)
          .execute();
      }
    },
    async releaseReplica(replicaId, at) {
      await db
        .updateTable('systems')
        .set({ connected: 0, replica_id: null, lease_expires_at: null, last_contact: at })
        .where('replica_id', '=', replicaId)
        .execute();
    },
    async holders(ids, now) {
      const out = new Map<string, string>();
      for (const part of chunks(ids)) {
        const rows = await db.selectFrom('systems').select(['id', 'replica_id']).where('id', 'in', part).where('lease_expires_at', '>', now).execute();
        for (const r of rows) if (r.replica_id) out.set(r.id, r.replica_id);
      }
      return out;
    },
    async clearConnections() {
      await db
        .updateTable('systems')
        .set({ connected: 0, replica_id: null, lease_expires_at: null })
        .where((eb) => eb.or([eb('connected', '=', 1), eb('replica_id', 'is not', null)]))
        .execute();
    },
  };
}
