import type { Kysely, Selectable } from 'kysely';
import type { LaunchType, ScriptRecord, ScriptStore, ScriptTargets } from '../../core/scripts/index.js';
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
    triggerName: row.trigger_name,
    launchType: row.launch_type as LaunchType,
    schedule: row.schedule,
    timezone: row.timezone,
    runAt: row.run_at,
    runOnEnroll: Number(row.run_on_enroll) === 1,
    platform: row.platform,
    nextFireAt: row.next_fire_at,
    attributes: fromJson<Record<string, string>>(row.attributes, {}),
  };
}

/** The command columns, as written on insert and update. */
function commandColumns(s: ScriptRecord) {
  return {
    trigger_name: s.triggerName,
    launch_type: s.launchType,
    schedule: s.schedule,
    timezone: s.timezone,
    run_at: s.runAt,
    run_on_enroll: s.runOnEnroll ? 1 : 0,
    platform: s.platform,
    attributes: toJson(s.attributes),
  };
}

/** Saved scripts on Kysely. */
export function scriptStore(db: Kysely<Schema>): ScriptStore {
  return {
    async insertScript(s) {
      const result = await db
        .insertInto('scripts')
        .values({
          id: s.id,
          organization_id: s.organizationId,
          name: s.name,
          content: s.content,
          shell: s.shell,
          run_as: s.runAs,
          timeout_s: s.timeoutS,
          ttl_s: s.ttlS,
          default_targets: targetsToJson(s.defaultTargets),
          created_at: s.createdAt,
          updated_at: s.updatedAt,
          created_by: s.createdBy,
          ...commandColumns(s),
          next_fire_at: s.nextFireAt,
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
    async updateScript(s, options = { reschedule: false }) {
      // The NOT EXISTS guard turns a clash with another script's name into an answer instead of a
      // unique-index error; the index still stops two concurrent renames to one name.
      const result = await db
        .updateTable('scripts')
        .set({
          name: s.name,
          content: s.content,
          shell: s.shell,
          run_as: s.runAs,
          timeout_s: s.timeoutS,
          ttl_s: s.ttlS,
          default_targets: targetsToJson(s.defaultTargets),
          updated_at: s.updatedAt,
          ...commandColumns(s),
          ...(options.reschedule ? { next_fire_at: s.nextFireAt } : {}),
        })
        .where('organization_id', '=', s.organizationId)
        .where('id', '=', s.id)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('scripts as other')
                .select('other.id')
                .where('other.organization_id', '=', s.organizationId)
                .where('other.name', '=', s.name)
                .where('other.id', '<>', s.id),
            ),
          ),
        )
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) return 'updated';
      const still = await db.selectFrom('scripts').select('id').where('organization_id', '=', s.organizationId).where('id', '=', s.id).executeTakeFirst();
      return still ? 'name_taken' : 'not_found';
    },
    async listByTrigger(organizationId, triggerName) {
      const rows = await db
        .selectFrom('scripts')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('trigger_name', '=', triggerName)
        .where('launch_type', '=', 'trigger')
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toRecord);
    },
    async listRunOnEnroll(organizationId) {
      const rows = await db
        .selectFrom('scripts')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('run_on_enroll', '=', 1)
        .orderBy('created_at')
        .execute();
      return rows.map(toRecord);
    },
    async dueScripts(now, limit) {
      const rows = await db
        .selectFrom('scripts')
        .selectAll()
        .where('next_fire_at', 'is not', null)
        .where('next_fire_at', '<=', now)
        .where('launch_type', 'in', ['repeated', 'one-time'])
        .orderBy('next_fire_at')
        .limit(limit)
        .execute();
      return rows.map(toRecord);
    },
    async claimFire(id, expected, next, now) {
      // Compare-and-set: of several replicas that saw the same due fire, only one moves it on.
      const result = await db
        .updateTable('scripts')
        .set({ next_fire_at: next, pending_fire: expected, pending_since: now })
        .where('id', '=', id)
        .where('next_fire_at', '=', expected)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async finishFire(id, slot) {
      await db.updateTable('scripts').set({ pending_fire: null, pending_since: null }).where('id', '=', id).where('pending_fire', '=', slot).execute();
    },
    async stalePendingFires(before, limit) {
      const rows = await db
        .selectFrom('scripts')
        .selectAll()
        .where('pending_fire', 'is not', null)
        .where('pending_since', '<', before)
        .orderBy('pending_since')
        .limit(limit)
        .execute();
      return rows.map((row) => ({ script: toRecord(row), slot: row.pending_fire!, since: row.pending_since! }));
    },
    async reclaimFire(id, slot, since, now) {
      const result = await db
        .updateTable('scripts')
        .set({ pending_since: now })
        .where('id', '=', id)
        .where('pending_fire', '=', slot)
        .where('pending_since', '=', since)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async jobExists(scriptId, label) {
      return (await db.selectFrom('jobs').select('id').where('script_id', '=', scriptId).where('created_by', '=', label).executeTakeFirst()) !== undefined;
    },
    async deleteScript(organizationId, id) {
      const result = await db.deleteFrom('scripts').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
