import type { Kysely, Selectable } from 'kysely';
import type { Selector } from '../../core/selectors/index.js';
import type { SystemRecord, SystemStore } from '../../core/systems/index.js';
import { selectorWhere } from '../selectors.js';
import { applySystemPatch, deleteSystemRow, insertMemberships, querySystemPage } from './system-inventory.js';
import { chunks } from '../chunks.js';
import type { Schema, SystemTable } from '../schema.js';
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
    connected: Number(row.connected) === 1,
    createdAt: row.created_at,
    lastContact: row.last_contact,
  };
}

/** Chunks big id lists so no statement exceeds either database's parameter limit. */
/** Systems on Kysely. */
export function systemStore(db: Kysely<Schema>): SystemStore {
  return {
    async insertSystem(s, groupIds = []) {
      await db.transaction().execute(async (tx) => {
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
      if (s.tags.length > 0) await tx.insertInto('system_tags').values(s.tags.map((tag) => ({ system_id: s.id, tag }))).execute();
      await insertMemberships(tx, s.organizationId, s.id, groupIds);
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
    async querySystems(organizationId, query) {
      const page = await querySystemPage(db, organizationId, query);
      return { total: page.total, items: page.rows.map(toRecord) };
    },
    updateSystem: (organizationId, id, patch) => applySystemPatch(db, organizationId, id, patch),
    deleteSystem: (organizationId, id) => deleteSystemRow(db, organizationId, id),
    async selectSystemIds(organizationId, selector) {
      const rows = await db.selectFrom('systems').select('id').where('organization_id', '=', organizationId).where((eb) => selectorWhere(eb, selector)).orderBy('id').execute();
      return rows.map((r) => r.id);
    },
    async existingSystemIds(organizationId, ids) {
      const found: string[] = [];
      for (const part of chunks(ids)) {
        const rows = await db.selectFrom('systems').select('id').where('organization_id', '=', organizationId).where('id', 'in', part).execute();
        found.push(...rows.map((r) => r.id));
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
    async recordConnect(id, f, publicIp, at) {
      await db
        .updateTable('systems')
        .set({
          hostname: f.hostname,
          os: f.os,
          os_release: f.os_release,
          arch: f.arch,
          kernel: f.kernel ?? '',
          agent_version: f.agent_version,
          ip_addresses: toJson(f.ip_addresses),
          facts: toJson(f),
          public_ip: publicIp,
          connected: 1,
          last_contact: at,
        })
        .where('id', '=', id)
        .execute();
    },
    async recordFacts(id, f, publicIp, at) {
      await db
        .updateTable('systems')
        .set({ os: f.os, os_release: f.os_release, arch: f.arch, kernel: f.kernel ?? '', agent_version: f.agent_version, ip_addresses: toJson(f.ip_addresses), facts: toJson(f), public_ip: publicIp, last_contact: at })
        .where('id', '=', id)
        .execute();
    },
    async recordDisconnect(id, at) {
      await db.updateTable('systems').set({ connected: 0, last_contact: at }).where('id', '=', id).execute();
    },
    async touchSystems(ids, at) {
      for (const part of chunks(ids)) {
        await db.updateTable('systems').set({ last_contact: at }).where('id', 'in', part).execute();
      }
    },
    async clearConnections() {
      await db.updateTable('systems').set({ connected: 0 }).where('connected', '=', 1).execute();
    },
  };
}
