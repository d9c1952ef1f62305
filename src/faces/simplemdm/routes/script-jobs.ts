import type { FastifyInstance } from 'fastify';
import { JOB_STATUSES, TARGET_TYPES, type JobFilter, type JobStatusFilter, type TargetType } from '../../../core/attributes/index.js';
import type { Actor, Core } from '../../../core/index.js';
import { invalid } from '../../../core/errors.js';
import { route } from '../route.js';
import { pageOf } from '../paging.js';
import type { Params } from '../params.js';
import { resolveAll, resolveForFilter, resolveOne } from '../refs.js';
import { jobFacts, scriptJobView } from '../script-job-view.js';
import { hasVariableSupport, listBody } from '../views.js';

/** The targets of a script job launch, resolved; 400 when it names none, 404 for an id that names nothing. */
export async function launchTargets(
  core: Core,
  actor: Actor,
  devices: Array<string | number>,
  groups: Array<string | number>,
  assignment: Array<string | number>,
) {
  if (devices.length + groups.length + assignment.length === 0)
    throw invalid('device_ids', 'name where to run the script: device_ids, group_ids or assignment_group_ids');
  const targetTypes: TargetType[] = [
    ...(devices.length > 0 ? (['device'] as const) : []),
    ...(groups.length > 0 ? (['device_group'] as const) : []),
    ...(assignment.length > 0 ? (['assignment_group'] as const) : []),
  ];
  return {
    systemIds: await resolveAll(core, actor, 'system', devices),
    groupIds: await resolveAll(core, actor, 'group', [...groups, ...assignment]),
    targetTypes,
  };
}

/** A script job's answer, as SimpleMDM shows one job (each device's output included). */
export async function oneScriptJob(core: Core, actor: Actor, jobId: string): Promise<unknown> {
  const job = await core.jobs.get(actor, jobId);
  const link = (await core.attributes.links(actor, [job.id])).get(job.id);
  const facts = await jobFacts(core, actor, job, link);
  return { data: scriptJobView(facts, await core.attributes.outputs(actor, job.id)) };
}

function instant(p: Params, field: string): string | undefined {
  const v = p.text(field);
  if (v === undefined || v === '') return undefined;
  const ms = Date.parse(v);
  if (!/^\d{4}-\d\d-\d\d/.test(v) || Number.isNaN(ms)) throw invalid(field, 'must be an ISO-8601 date or instant, like 2026-12-01T03:00:00Z');
  return new Date(ms).toISOString();
}

/** The filters of a script job list. */
async function filterOf(core: Core, actor: Actor, p: Params): Promise<JobFilter> {
  const f: JobFilter = {};
  const scriptName = p.text('script_name');
  if (scriptName !== undefined) f.scriptName = scriptName;
  const scripts = p.list('script_id', 'script_ids');
  if (scripts) f.scriptIds = await resolveForFilter(core, actor, 'script', scripts);
  const devices = p.list('device_id', 'device_ids');
  if (devices) f.systemIds = await resolveForFilter(core, actor, 'system', devices);
  const groups = p.list('group_id', 'group_ids', 'device_group_id', 'device_group_ids', 'assignment_group_id', 'assignment_group_ids');
  if (groups) f.groupIds = await resolveForFilter(core, actor, 'group', groups);
  const types = p.list('target_type', 'target_types');
  if (types) {
    f.targetTypes = types.map((t) => {
      const type = String(t).replace(/s$/, '');
      if (!(TARGET_TYPES as readonly string[]).includes(type)) throw invalid('target_type', `must be one of ${TARGET_TYPES.join(', ')}; got ${t}`);
      return type as TargetType;
    });
  }
  const status = p.text('status');
  if (status !== undefined) {
    if (!(JOB_STATUSES as readonly string[]).includes(status)) throw invalid('status', `must be one of ${JOB_STATUSES.join(', ')}; got ${status}`);
    f.status = status as JobStatusFilter;
  }
  const ranges = { createdAfter: 'created_after', createdBefore: 'created_before', updatedAfter: 'updated_after', updatedBefore: 'updated_before' } as const;
  for (const [key, field] of Object.entries(ranges)) {
    const at = instant(p, field);
    if (at !== undefined) f[key as keyof typeof ranges] = at;
  }
  return f;
}

/** `/api/v1/script_jobs`: run a saved script on devices and groups, list and read its jobs, cancel one. */
export function scriptJobRoutes(app: FastifyInstance, core: Core): void {
  route(
    app,
    'POST',
    '/script_jobs',
    async ({ actor, p }) => {
      const ref = p.text('script_id');
      if (ref === undefined || ref === '') throw invalid('script_id', 'is required');
      const script = await core.scripts.get(actor, await resolveOne(core, actor, 'script', ref));
      const targets = await launchTargets(
        core,
        actor,
        p.list('device_ids', 'device_id') ?? [],
        p.list('group_ids', 'device_group_ids') ?? [],
        p.list('assignment_group_ids') ?? [],
      );
      const customAttribute = p.text('custom_attribute');
      const regex = p.text('custom_attribute_regex');
      const jobName = p.text('job_name');
      const { job } = await core.attributes.launch(actor, {
        script: script.id,
        ...targets,
        variableSupport: hasVariableSupport(script),
        ...(jobName ? { jobName } : {}),
        ...(customAttribute ? { customAttribute } : {}),
        ...(regex ? { customAttributeRegex: regex } : {}),
      });
      return oneScriptJob(core, actor, job.id);
    },
    201,
  );
  route(app, 'GET', '/script_jobs', async ({ actor, p }) => {
    const page = pageOf(p);
    const { jobIds, hasMore } = await core.attributes.search(actor, await filterOf(core, actor, p), page);
    const links = await core.attributes.links(actor, jobIds);
    const data = [];
    for (const id of jobIds) data.push(scriptJobView(await jobFacts(core, actor, await core.jobs.get(actor, id), links.get(id))));
    return listBody(data, hasMore);
  });
  route(app, 'GET', '/script_jobs/:id', async ({ req, actor }) =>
    oneScriptJob(core, actor, await resolveOne(core, actor, 'job', (req.params as { id: string }).id)),
  );
  route(app, 'DELETE', '/script_jobs/:id', async ({ req, actor }) => {
    await core.jobs.cancel(actor, { jobId: await resolveOne(core, actor, 'job', (req.params as { id: string }).id) });
    return undefined;
  });
}
