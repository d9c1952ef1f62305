import type { Kysely, Selectable } from 'kysely';
import type { ScriptRecord, ScriptStore, ScriptTargets } from '../../core/scripts/index.js';
import type { Schema, ScriptTable } from '../schema.js';
import { fromJson, toJson } from './json.js';

interface TargetsJson {
  system_ids?: string[];
  group_ids?: string[];
  selector?: string | null;
}

function targetsToJson(t: ScriptTargets): string {
  return toJson({ system_ids: t.systemIds, group_ids: t.groupIds, selector: t.selector });
}

function toRecord(row: Selectable<ScriptTable>): ScriptRecord {
  const t = fromJson<TargetsJson>(row.default_targets, {});
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    content: row.content,
    shell: row.shell,
    runAs: row.run_as,
    // PostgreSQL's integer is 32-bit, so pg returns numbers; Number() guards a driver returning strings.
    timeoutS: Number(row.timeout_s),
    ttlS: Number(row.ttl_s),
    defaultTargets: { systemIds: t.system_ids ?? [], groupIds: t.group_ids ?? [], selector: t.selector ?? null },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
  };
}

/** Saved scripts on Kysely. */
export function scriptStore(db: Kysely<Schema>): ScriptStore {
  return {
    async insertScript(s) {
      const result = await db
        .insertInto('scripts')
        .values({
          id: s.id, organization_id: s.organizationId, name: s.name, content: s.content, shell: s.shell, run_as: s.runAs,
          timeout_s: s.timeoutS, ttl_s: s.ttlS, default_targets: targetsToJson(s.defaultTargets),
          created_at: s.createdAt, updated_at: s.updatedAt, created_by: s.createdBy,
        })
        .onConflict((oc) => oc.columns(['organization_id', 'name']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async listScripts(organizationId) {
      const rows = await db.selectFrom('scripts').selectAll().where('organization_id', '=', organizationId).orderBy('created_at').orderBy('id').execute();
      return rows.map(toRecord);
    },
    async getScript(organizationId, id) {
      const row = await db.selectFrom('scripts').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async findScriptByName(organizationId, name) {
      const row = await db.selectFrom('scripts').selectAll().where('organization_id', '=', organizationId).where('name', '=', name).executeTakeFirst();
      return row && toRecord(row);
    },
    async updateScript(s) {
      // The NOT EXISTS guard turns a clash with another script's name into an answer instead of a
      // unique-index error; the index still stops two concurrent renames to one name.
      const result = await db
        .updateTable('scripts')
        .set({
          name: s.name, content: s.content, shell: s.shell, run_as: s.runAs, timeout_s: s.timeoutS, ttl_s: s.ttlS,
          default_targets: targetsToJson(s.defaultTargets), updated_at: s.updatedAt,
        })
        .where('organization_id', '=', s.organizationId)
        .where('id', '=', s.id)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('scripts as other').select('other.id').where('other.organization_id', '=', s.organizationId).where('other.name', '=', s.name).where('other.id', '<>', s.id))),
        )
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) return 'updated';
      const still = await db.selectFrom('scripts').select('id').where('organization_id', '=', s.organizationId).where('id', '=', s.id).executeTakeFirst();
      return still ? 'name_taken' : 'not_found';
    },
    async deleteScript(organizationId, id) {
      const result = await db.deleteFrom('scripts').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
