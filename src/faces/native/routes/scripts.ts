import type { FastifyInstance } from 'fastify';
import {
  CreateScriptBody,
  IdOrNameParams,
  IdParams,
  NoContent,
  Script,
  ScriptJobsQuery,
  ScriptJobSummaryList,
  ScriptList,
  ScriptPatch,
} from '../../../api/native/index.js';
import type { ScriptRecord } from '../../../core/scripts/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { answers } from '../schemas.js';

/** A script in the native API's snake_case shape. */
export function scriptView(s: ScriptRecord): Script {
  return {
    id: s.id,
    name: s.name,
    content: s.content,
    shell: s.shell,
    run_as: s.runAs,
    timeout_s: s.timeoutS,
    ttl_s: s.ttlS,
    default_targets: { system_ids: s.defaultTargets.systemIds, group_ids: s.defaultTargets.groupIds, selector: s.defaultTargets.selector },
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    created_by: s.createdBy,
  };
}

/** /v1/scripts: saved scripts; operators write, viewers read. */
export function scriptRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const tags = ['scripts'];

  api.get(
    '/script-jobs',
    {
      schema: {
        tags,
        summary: 'Jobs of saved scripts as the SimpleMDM API shows them, newest first',
        querystring: ScriptJobsQuery,
        response: answers({ 200: ScriptJobSummaryList }),
      },
    },
    async (req) => {
      const { limit, before } = req.query;
      const page = await core.attributes.scriptJobs(actorOf(req), {
        limit: limit === undefined ? 50 : Number(limit),
        before: before === undefined ? undefined : Number(before),
      });
      return {
        items: page.items.map(({ job, number, scriptName, jobName, tally }) => ({
          job_id: job.id,
          number,
          script_name: scriptName,
          job_name: jobName,
          status: tally.status,
          total: job.total,
          device_counts: tally.devices,
          created_by: job.createdBy,
          created_at: job.createdAt,
          finished_at: job.finishedAt,
        })),
        next_cursor: page.hasMore && page.items.length > 0 ? String(page.items[page.items.length - 1]!.number) : null,
      };
    },
  );

  api.get('/scripts', { schema: { tags, summary: 'List saved scripts', response: answers({ 200: ScriptList }) } }, async (req) => ({
    items: (await core.scripts.list(actorOf(req))).map(scriptView),
  }));

  api.post('/scripts', { schema: { tags, summary: 'Save a script', body: CreateScriptBody, response: answers({ 201: Script }) } }, async (req, reply) => {
    const script = await core.scripts.create(actorOf(req), req.body);
    return reply.status(201).send(scriptView(script));
  });

  api.get(
    '/scripts/:id',
    { schema: { tags, summary: 'A saved script, by id or name', params: IdOrNameParams, response: answers({ 200: Script }) } },
    async (req) => scriptView(await core.scripts.get(actorOf(req), req.params.id)),
  );

  api.patch(
    '/scripts/:id',
    {
      schema: {
        tags,
        summary: 'Change a saved script; fields left out keep their values',
        params: IdParams,
        body: ScriptPatch,
        response: answers({ 200: Script }),
      },
    },
    async (req) => scriptView(await core.scripts.update(actorOf(req), req.params.id, req.body)),
  );

  api.delete(
    '/scripts/:id',
    { schema: { tags, summary: 'Delete a saved script', params: IdParams, response: answers({ 204: NoContent }) } },
    async (req, reply) => {
      await core.scripts.remove(actorOf(req), req.params.id);
      return reply.status(204).send();
    },
  );
}
