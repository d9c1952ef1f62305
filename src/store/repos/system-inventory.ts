import { sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool, type Transaction } from 'kysely';
import type { QueryField, SystemFilter, SystemPatch, SystemQuery } from '../../core/systems/index.js';
import type { Schema, SystemTable } from '../schema.js';
import { toJson } from './json.js';

type Eb = ExpressionBuilder<Schema, 'systems'>;

const COLUMNS: Record<Exclude<QueryField, 'tags' | 'connected'>, keyof SystemTable & string> = {
  id: 'id',
  hostname: 'hostname',
  displayName: 'display_name',
  os: 'os',
  osRelease: 'os_release',
  arch: 'arch',
  agentVersion: 'agent_version',
  description: 'description',
  createdAt: 'created_at',
  lastContact: 'last_contact',
};

/** 1 while a replica's presence lease on the system is live at `now`, else 0 (what `connected` means). */
function connectedAt(now: string): Expression<number> {
  return sql<number>`(case when systems.lease_expires_at > ${now} then 1 else 0 end)`;
}

function columnOf(field: Exclude<QueryField, 'tags'>, now: string): Expression<unknown> {
  return field === 'connected' ? connectedAt(now) : sql.ref(`systems.${COLUMNS[field]}`);
}

/** `%value%` for a case-insensitive LIKE, with the wildcard characters in the value escaped (ESCAPE '\'). */
export function escapeLike(value: string): string {
  return `%${value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function filterWhere(eb: Eb, f: SystemFilter, now: string): Expression<SqlBool> {
  if (f.field === 'tags') {
    const tagged = (v: string) =>
      eb.exists(eb.selectFrom('system_tags').select('tag').whereRef('system_tags.system_id', '=', 'systems.id').where('tag', '=', v));
    const any = eb.or(f.values.map(tagged));
    return f.op === 'ne' ? eb.not(any) : any;
  }
  const column = columnOf(f.field, now);
  // connected is 0/1 in the database, true/false on the wire.
  const values = f.field === 'connected' ? f.values.map((v) => (v === 'true' ? 1 : 0)) : f.values;
  switch (f.op) {
    case 'eq':
      return sql<SqlBool>`${column} = ${values[0]}`;
    case 'ne':
      return sql<SqlBool>`${column} <> ${values[0]}`;
    case 'in':
      return eb.or(values.map((v) => sql<SqlBool>`${column} = ${v}`));
    case 'gt':
      return sql<SqlBool>`${column} > ${values[0]}`;
    case 'lt':
      return sql<SqlBool>`${column} < ${values[0]}`;
    case 'contains':
      return sql<SqlBool>`lower(${column}) like ${escapeLike(String(values[0]))} escape '\\'`;
  }
}

/** A filtered, sorted page of an organization's systems, evaluated in the database, and the total. */
export async function querySystemPage(
  db: Kysely<Schema>,
  organizationId: string,
  q: SystemQuery,
  now: string,
): Promise<{ total: number; rows: Selectable<SystemTable>[] }> {
  let base = db.selectFrom('systems').where('organization_id', '=', organizationId);
  if (q.filters.length > 0) base = base.where((eb) => eb.and(q.filters.map((f) => filterWhere(eb, f, now))));
  const counted = await base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
  let page = base.selectAll();
  for (const s of q.sort) if (s.field !== 'tags') page = page.orderBy(columnOf(s.field, now), s.desc ? 'desc' : 'asc');
  const rows = await page.orderBy('id').limit(q.limit).offset(q.skip).execute();
  return { total: Number(counted?.n ?? 0), rows };
}

/** Joins the listed groups that exist in the organization (a key's group may have been deleted since). */
export async function insertMemberships(tx: Transaction<Schema>, organizationId: string, systemId: string, groupIds: string[]): Promise<void> {
  if (groupIds.length === 0) return;
  const groups = await tx.selectFrom('groups').select('id').where('organization_id', '=', organizationId).where('id', 'in', groupIds).execute();
  if (groups.length > 0)
    await tx
      .insertInto('group_members')
      .values(groups.map((g) => ({ group_id: g.id, system_id: systemId })))
      .execute();
}

/** Applies a patch in one transaction, mirroring tags to system_tags; false when the system is not there. */
export async function applySystemPatch(db: Kysely<Schema>, organizationId: string, id: string, patch: SystemPatch): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const set: Partial<Record<'display_name' | 'description' | 'tags' | 'attributes', string>> & { certname?: string | null } = {};
    if (patch.certname !== undefined) set.certname = patch.certname;
    if (patch.displayName !== undefined) set.display_name = patch.displayName;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.tags !== undefined) set.tags = toJson(patch.tags);
    if (patch.attributes !== undefined) set.attributes = toJson(patch.attributes);
    const exists = await tx.selectFrom('systems').select('id').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
    if (!exists) return false;
    if (Object.keys(set).length > 0) await tx.updateTable('systems').set(set).where('id', '=', id).execute();
    if (patch.tags !== undefined) {
      await tx.deleteFrom('system_tags').where('system_id', '=', id).execute();
      if (patch.tags.length > 0)
        await tx
          .insertInto('system_tags')
          .values(patch.tags.map((tag) => ({ system_id: id, tag })))
          .execute();
    }
    return true;
  });
}

/** Deletes a system with its tags, memberships and bindings; runs and audit events stay. */
export async function deleteSystemRow(db: Kysely<Schema>, organizationId: string, id: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const exists = await tx.selectFrom('systems').select('id').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
    if (!exists) return false;
    // Explicit, not left to ON DELETE CASCADE: the bindings table may predate a foreign key.
    await tx.deleteFrom('system_tags').where('system_id', '=', id).execute();
    await tx.deleteFrom('group_members').where('system_id', '=', id).execute();
    await tx.deleteFrom('system_user_bindings').where('system_id', '=', id).execute();
    await tx.deleteFrom('systems').where('id', '=', id).execute();
    return true;
  });
}
