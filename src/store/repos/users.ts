import { sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { SystemUserQuery, SystemUserRecord, SystemUserStore, UserQueryField } from '../../core/users/index.js';
import type { Schema, SystemUserTable } from '../schema.js';
import { escapeLike } from './system-inventory.js';

const COLUMNS: Record<UserQueryField, keyof SystemUserTable & string> = {
  id: 'id',
  username: 'username',
  email: 'email',
  firstName: 'first_name',
  lastName: 'last_name',
  createdAt: 'created_at',
};

function filterWhere(eb: ExpressionBuilder<Schema, 'system_users'>, f: SystemUserQuery['filters'][number]): Expression<SqlBool> {
  const column = sql.ref(`system_users.${COLUMNS[f.field]}`);
  switch (f.op) {
    case 'eq':
      return sql<SqlBool>`${column} = ${f.values[0]}`;
    case 'ne':
      return sql<SqlBool>`${column} <> ${f.values[0]}`;
    case 'in':
      return eb.or(f.values.map((v) => sql<SqlBool>`${column} = ${v}`));
    case 'contains':
      return sql<SqlBool>`lower(${column}) like ${escapeLike(String(f.values[0]))} escape '\\'`;
  }
}

function toRecord(row: Selectable<SystemUserTable>): SystemUserRecord {
  return {
    id: row.id,
    organizationId: row.organization_id,
    username: row.username,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    createdAt: row.created_at,
  };
}

/** System users and their bindings on Kysely. */
export function systemUserStore(db: Kysely<Schema>): SystemUserStore {
  const taken = async (organizationId: string, username: string, except?: string) => {
    let q = db.selectFrom('system_users').select('id').where('organization_id', '=', organizationId).where('username', '=', username);
    if (except) q = q.where('id', '<>', except);
    return Boolean(await q.executeTakeFirst());
  };
  return {
    async insertUser(u) {
      if (await taken(u.organizationId, u.username)) return false;
      const r = await db
        .insertInto('system_users')
        .values({
          id: u.id,
          organization_id: u.organizationId,
          username: u.username,
          email: u.email,
          first_name: u.firstName,
          last_name: u.lastName,
          created_at: u.createdAt,
        })
        .onConflict((oc) => oc.columns(['organization_id', 'username']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async getUser(organizationId, id) {
      const row = await db.selectFrom('system_users').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async listUsers(organizationId) {
      return (await db.selectFrom('system_users').selectAll().where('organization_id', '=', organizationId).orderBy('username').execute()).map(toRecord);
    },
    async queryUsers(organizationId, q) {
      let base = db.selectFrom('system_users').where('organization_id', '=', organizationId);
      if (q.filters.length > 0) base = base.where((eb) => eb.and(q.filters.map((f) => filterWhere(eb, f))));
      const counted = await base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
      let page = base.selectAll();
      for (const s of q.sort) page = page.orderBy(sql.ref(`system_users.${COLUMNS[s.field]}`), s.desc ? 'desc' : 'asc');
      const rows = await page.orderBy('username').orderBy('id').limit(q.limit).offset(q.skip).execute();
      return { total: Number(counted?.n ?? 0), items: rows.map(toRecord) };
    },
    async updateUser(organizationId, id, p) {
      if (p.username !== undefined && (await taken(organizationId, p.username, id))) return 'conflict';
      const set = {
        ...(p.username === undefined ? {} : { username: p.username }),
        ...(p.email === undefined ? {} : { email: p.email }),
        ...(p.firstName === undefined ? {} : { first_name: p.firstName }),
        ...(p.lastName === undefined ? {} : { last_name: p.lastName }),
      };
      const exists = await db.selectFrom('system_users').select('id').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      if (!exists) return 'missing';
      if (Object.keys(set).length > 0) await db.updateTable('system_users').set(set).where('id', '=', id).execute();
      return 'ok';
    },
    async deleteUser(organizationId, id) {
      return db.transaction().execute(async (tx) => {
        const found = await tx.selectFrom('system_users').select('id').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
        if (!found) return false;
        await tx.deleteFrom('system_user_bindings').where('user_id', '=', id).execute();
        await tx.deleteFrom('system_users').where('id', '=', id).execute();
        return true;
      });
    },
    async bind(userId, systemId) {
      await db
        .insertInto('system_user_bindings')
        .values({ user_id: userId, system_id: systemId })
        .onConflict((oc) => oc.columns(['user_id', 'system_id']).doNothing())
        .execute();
    },
    async unbind(userId, systemId) {
      await db.deleteFrom('system_user_bindings').where('user_id', '=', userId).where('system_id', '=', systemId).execute();
    },
    async systemIdsOfUser(userId) {
      return (await db.selectFrom('system_user_bindings').select('system_id').where('user_id', '=', userId).orderBy('system_id').execute()).map(
        (r) => r.system_id,
      );
    },
    async usersOfSystem(systemId) {
      const rows = await db
        .selectFrom('system_users')
        .innerJoin('system_user_bindings', 'system_user_bindings.user_id', 'system_users.id')
        .selectAll('system_users')
        .where('system_user_bindings.system_id', '=', systemId)
        .orderBy('system_users.username')
        .execute();
      return rows.map(toRecord);
    },
  };
}
