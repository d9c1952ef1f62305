import type { Kysely, Selectable } from 'kysely';
import type { GroupRecord, GroupStore } from '../../core/groups/index.js';
import type { GroupTable, Schema } from '../schema.js';

function toRecord(row: Selectable<GroupTable>): GroupRecord {
  return { id: row.id, organizationId: row.organization_id, name: row.name, description: row.description, createdAt: row.created_at };
}

/** Groups and memberships on Kysely. Names are unique per organization, compared case-insensitively. */
export function groupStore(db: Kysely<Schema>): GroupStore {
  const byName = (organizationId: string, name: string) =>
    db
      .selectFrom('groups')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase()));
  return {
    async insertGroup(g) {
      return db.transaction().execute(async (tx) => {
        const taken = await tx
          .selectFrom('groups')
          .select('id')
          .where('organization_id', '=', g.organizationId)
          .where((eb) => eb(eb.fn('lower', ['name']), '=', g.name.toLowerCase()))
          .executeTakeFirst();
        if (taken) return false;
        const r = await tx
          .insertInto('groups')
          .values({ id: g.id, organization_id: g.organizationId, name: g.name, description: g.description, created_at: g.createdAt })
          .onConflict((oc) => oc.columns(['organization_id', 'name']).doNothing())
          .executeTakeFirst();
        return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
      });
    },
    async getGroup(organizationId, id) {
      const row = await db.selectFrom('groups').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async findGroupByName(organizationId, name) {
      const row = await byName(organizationId, name).executeTakeFirst();
      return row && toRecord(row);
    },
    async listGroups(organizationId) {
      return (await db.selectFrom('groups').selectAll().where('organization_id', '=', organizationId).orderBy('name').orderBy('id').execute()).map(toRecord);
    },
    async updateGroup(organizationId, id, patch) {
      if (patch.name !== undefined) {
        const other = await byName(organizationId, patch.name).where('id', '<>', id).executeTakeFirst();
        if (other) return 'conflict';
      }
      const r = await db.updateTable('groups').set(patch).where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1 ? 'ok' : 'missing';
    },
    async deleteGroup(organizationId, id) {
      return db.transaction().execute(async (tx) => {
        const found = await tx.selectFrom('groups').select('id').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
        if (!found) return false;
        await tx.deleteFrom('group_members').where('group_id', '=', id).execute();
        await tx.deleteFrom('groups').where('id', '=', id).execute();
        return true;
      });
    },
    async memberIds(groupId) {
      return (await db.selectFrom('group_members').select('system_id').where('group_id', '=', groupId).orderBy('system_id').execute()).map((r) => r.system_id);
    },
    async addMember(groupId, systemId) {
      await db
        .insertInto('group_members')
        .values({ group_id: groupId, system_id: systemId })
        .onConflict((oc) => oc.columns(['group_id', 'system_id']).doNothing())
        .execute();
    },
    async removeMember(groupId, systemId) {
      await db.deleteFrom('group_members').where('group_id', '=', groupId).where('system_id', '=', systemId).execute();
    },
    async groupsOfSystem(systemId) {
      const rows = await db
        .selectFrom('groups')
        .innerJoin('group_members', 'group_members.group_id', 'groups.id')
        .selectAll('groups')
        .where('group_members.system_id', '=', systemId)
        .orderBy('groups.name')
        .execute();
      return rows.map(toRecord);
    },
  };
}
