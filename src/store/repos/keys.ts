import type { Kysely, Selectable } from 'kysely';
import type { Role } from '../../core/access/index.js';
import type { ApiKeyRecord, EnrollmentKeyRecord, KeyStore } from '../../core/keys/index.js';
import type { ApiKeyTable, EnrollmentKeyTable, Schema } from '../schema.js';
import { fromJson, toJson } from './json.js';

function apiKey(row: Selectable<ApiKeyTable>): ApiKeyRecord {
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    role: row.role as Role,
    prefix: row.prefix,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

function enrollmentKey(row: Selectable<EnrollmentKeyTable>): EnrollmentKeyRecord {
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    tags: fromJson<string[]>(row.tags, []),
    prefix: row.prefix,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    groupIds: fromJson<string[]>(row.group_ids, []),
    expiresAt: row.expires_at,
    maxUses: row.max_uses === null ? null : Number(row.max_uses),
    uses: Number(row.uses),
  };
}

/** API keys and enrollment keys on Kysely. */
export function keyStore(db: Kysely<Schema>): KeyStore {
  return {
    async insertApiKey(k) {
      await db
        .insertInto('api_keys')
        .values({
          id: k.id,
          organization_id: k.organizationId,
          name: k.name,
          role: k.role,
          prefix: k.prefix,
          secret_hash: k.secretHash,
          created_at: k.createdAt,
          last_used_at: null,
          revoked_at: null,
        })
        .execute();
    },
    async findApiKeyByHash(hash) {
      const row = await db.selectFrom('api_keys').selectAll().where('secret_hash', '=', hash).executeTakeFirst();
      return row && apiKey(row);
    },
    async listApiKeys(organizationId) {
      const rows = await db.selectFrom('api_keys').selectAll().where('organization_id', '=', organizationId).orderBy('created_at').orderBy('id').execute();
      return rows.map(apiKey);
    },
    async revokeApiKey(organizationId, id, at) {
      const r = await db
        .updateTable('api_keys')
        .set({ revoked_at: at })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async touchApiKey(id, at) {
      await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
    },
    async insertEnrollmentKey(k) {
      await db
        .insertInto('enrollment_keys')
        .values({
          id: k.id,
          organization_id: k.organizationId,
          name: k.name,
          tags: toJson(k.tags),
          prefix: k.prefix,
          secret_hash: k.secretHash,
          created_at: k.createdAt,
          revoked_at: null,
          group_ids: toJson(k.groupIds),
          expires_at: k.expiresAt,
          max_uses: k.maxUses,
          uses: 0,
        })
        .execute();
    },
    async findEnrollmentKeyByHash(hash) {
      const row = await db.selectFrom('enrollment_keys').selectAll().where('secret_hash', '=', hash).executeTakeFirst();
      return row && enrollmentKey(row);
    },
    async listEnrollmentKeys(organizationId) {
      const rows = await db
        .selectFrom('enrollment_keys')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(enrollmentKey);
    },
    async revokeEnrollmentKey(organizationId, id, at) {
      const r = await db
        .updateTable('enrollment_keys')
        .set({ revoked_at: at })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async consumeEnrollmentKey(id) {
      // One conditional UPDATE: two enrollments racing for the last use cannot both win.
      const r = await db
        .updateTable('enrollment_keys')
        .set((eb) => ({ uses: eb('uses', '+', 1) }))
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
  };
}
