import { sql, type Kysely, type Selectable } from 'kysely';
import type { AttributeStore, JobLinkRecord, TargetType } from '../../core/attributes/index.js';
import type { ScriptJobLinkTable, Schema } from '../schema.js';

/** A list kept as text with a comma on each side, so `like '%,x,%'` finds one member. */
const toList = (items: readonly string[]) => `,${items.join(',')},`;
const fromList = (text: string) => text.split(',').filter((s) => s !== '');

function toLink(row: Selectable<ScriptJobLinkTable>): JobLinkRecord {
  return {
    jobId: row.job_id,
    organizationId: row.organization_id,
    jobName: row.job_name,
    targetTypes: fromList(row.target_types) as TargetType[],
    groupIds: fromList(row.group_ids),
    variableSupport: Number(row.variable_support) === 1,
    customAttribute: row.custom_attribute,
    customAttributeRegex: row.custom_attribute_regex,
  };
}

/** Custom attribute definitions and script job links on Kysely; job searches read jobs, runs, scripts and integer ids. */
export function attributeStore(db: Kysely<Schema>): AttributeStore {
  const toAttribute = (r: Selectable<Schema['custom_attributes']>) => ({
    organizationId: r.organization_id,
    name: r.name,
    defaultValue: r.default_value,
    createdAt: r.created_at,
  });
  return {
    async listAttributes(organizationId) {
      const rows = await db.selectFrom('custom_attributes').selectAll().where('organization_id', '=', organizationId).orderBy('name').execute();
      return rows.map(toAttribute);
    },
    async getAttribute(organizationId, name) {
      const row = await db
        .selectFrom('custom_attributes')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('name', '=', name)
        .executeTakeFirst();
      return row && toAttribute(row);
    },
    async insertAttribute(a) {
      const r = await db
        .insertInto('custom_attributes')
        .values({ organization_id: a.organizationId, name: a.name, default_value: a.defaultValue, created_at: a.createdAt })
        .onConflict((oc) => oc.columns(['organization_id', 'name']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async updateAttribute(organizationId, name, defaultValue) {
      const r = await db
        .updateTable('custom_attributes')
        .set({ default_value: defaultValue })
        .where('organization_id', '=', organizationId)
        .where('name', '=', name)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async deleteAttribute(organizationId, name) {
      const r = await db.deleteFrom('custom_attributes').where('organization_id', '=', organizationId).where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
    async insertJobLink(l) {
      await db
        .insertInto('script_job_links')
        .values({
          job_id: l.jobId,
          organization_id: l.organizationId,
          job_name: l.jobName,
          target_types: toList(l.targetTypes),
          group_ids: toList(l.groupIds),
          variable_support: l.variableSupport ? 1 : 0,
          custom_attribute: l.customAttribute,
          custom_attribute_regex: l.customAttributeRegex,
        })
        .execute();
    },
    async getJobLinks(organizationId, jobIds) {
      if (jobIds.length === 0) return new Map();
      const rows = await db
        .selectFrom('script_job_links')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('job_id', 'in', [...jobIds])
        .execute();
      return new Map(rows.map((r) => [r.job_id, toLink(r)]));
    },
    async jobOutputs(organizationId, jobId) {
      const rows = await db.selectFrom('runs').select(['id', 'stdout']).where('organization_id', '=', organizationId).where('job_id', '=', jobId).execute();
      return new Map(rows.map((r) => [r.id, r.stdout]));
    },
    async searchJobs(organizationId, f, page) {
      let q = db
        .selectFrom('jobs as j')
        .innerJoin('integer_ids as n', (join) => join.onRef('n.native_id', '=', 'j.id').on('n.kind', '=', 'job'))
        .leftJoin('script_job_links as l', 'l.job_id', 'j.id')
        .leftJoin('scripts as s', 's.id', 'j.script_id')
        .select(['j.id', 'n.number'])
        .where('j.organization_id', '=', organizationId)
        .where('j.script_id', 'is not', null);
      if (f.scriptIds) q = q.where('j.script_id', 'in', f.scriptIds.length > 0 ? f.scriptIds : ['']);
      if (f.scriptName !== undefined) q = q.where('s.name', '=', f.scriptName);
      if (f.systemIds)
        q = q.where(({ exists, selectFrom }) =>
          exists(
            selectFrom('runs as r')
              .select('r.id')
              .whereRef('r.job_id', '=', 'j.id')
              .where('r.system_id', 'in', f.systemIds!.length > 0 ? f.systemIds! : ['']),
          ),
        );
      if (f.groupIds) {
        const groups = f.groupIds;
        q = q.where((eb) => eb.or(groups.map((g) => eb('l.group_ids', 'like', `%,${g},%`))));
      }
      if (f.targetTypes) {
        const types = f.targetTypes;
        // A job launched another way (run-on-enroll, the native API) names its systems: it counts as `device`.
        q = q.where((eb) => eb.or(types.map((t) => eb(sql<string>`coalesce(l.target_types, ',device,')`, 'like', `%,${t},%`))));
      }
      const failedRun = sql<boolean>`exists (select 1 from runs r2 where r2.job_id = j.id and r2.state <> 'succeeded')`;
      if (f.status === 'pending') q = q.where('j.finished_at', 'is', null);
      if (f.status === 'completed') q = q.where('j.finished_at', 'is not', null).where(sql<boolean>`not ${failedRun}`);
      if (f.status === 'failed') q = q.where('j.finished_at', 'is not', null).where(failedRun);
      if (f.createdAfter) q = q.where('j.created_at', '>=', f.createdAfter);
      if (f.createdBefore) q = q.where('j.created_at', '<=', f.createdBefore);
      const updated = sql<string>`coalesce(j.finished_at, j.created_at)`;
      if (f.updatedAfter) q = q.where(updated, '>=', f.updatedAfter);
      if (f.updatedBefore) q = q.where(updated, '<=', f.updatedBefore);
      if (page.after !== undefined) q = q.where('n.number', '>', page.after);
      if (page.before !== undefined) q = q.where('n.number', '<', page.before);
      // Before a cursor, the page is the last `limit` rows before it, still returned ascending.
      const rows = await q
        .orderBy('n.number', page.before !== undefined && page.after === undefined ? 'desc' : 'asc')
        .limit(page.limit + 1)
        .execute();
      const hasMore = rows.length > page.limit;
      const kept = rows.slice(0, page.limit);
      if (page.before !== undefined && page.after === undefined) kept.reverse();
      return { jobIds: kept.map((r) => r.id), hasMore };
    },
  };
}
