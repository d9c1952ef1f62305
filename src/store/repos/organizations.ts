import type { Kysely, Selectable } from 'kysely';
import type { OrganizationRecord, OrganizationStore } from '../../core/organizations/index.js';
import type { OrganizationTable, Schema } from '../schema.js';

function toRecord(row: Selectable<OrganizationTable>): OrganizationRecord {
  return { id: row.id, slug: row.slug, name: row.name, createdAt: row.created_at };
}

/** Organizations on Kysely. */
export function organizationStore(db: Kysely<Schema>): OrganizationStore {
  return {
    async insertOrganization(org) {
      const result = await db
        .insertInto('organizations')
        .values({ id: org.id, slug: org.slug, name: org.name, created_at: org.createdAt })
        .onConflict((oc) => oc.column('slug').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async findOrganizationBySlug(slug) {
      const row = await db.selectFrom('organizations').selectAll().where('slug', '=', slug).executeTakeFirst();
      return row && toRecord(row);
    },
    async getOrganization(id) {
      const row = await db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
  };
}
