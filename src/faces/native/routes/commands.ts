import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import {
  Command,
  CommandList,
  CommandPatch,
  CommandResults,
  CommandResultsQuery,
  CreateCommandBody,
  IdOrNameParams,
  Launched,
  NoContent,
  RunCommandBody,
  type CommandResult,
} from '../../../api/native/index.js';
import type { CommandResultRecord } from '../../../core/commands/index.js';
import type { ScriptRecord } from '../../../core/scripts/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { answers } from '../schemas.js';
import { view } from '../views.js';
import { scriptView } from './scripts.js';

/** A command: a script with its trigger, schedule and run-on-enroll. */
export function commandView(s: ScriptRecord): Command {
  return {
    ...scriptView(s),
    trigger: s.triggerName,
    launch_type: s.launchType,
    schedule: s.schedule,
    timezone: s.timezone,
    run_at: s.runAt,
    run_on_enroll: s.runOnEnroll,
    platform: s.platform,
    next_fire_at: s.nextFireAt,
  };
}

function resultView(r: CommandResultRecord): CommandResult {
  return {
    run_id: r.runId,
    job_id: r.jobId,
    command_id: r.commandId,
    command_name: r.commandName,
    system_id: r.systemId,
    hostname: r.hostname,
    state: r.state,
    exit_code: r.exitCode,
    reason: r.reason,
    stdout: r.stdout,
    stderr: r.stderr,
    created_at: r.createdAt,
    finished_at: r.finishedAt,
  };
}

/** /v1/commands: saved scripts with their command settings, run now, and their results. */
export function savedCommandRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const tags = ['commands'];
  const params = IdOrNameParams;
  api.get('/commands', { schema: { tags, summary: 'List commands', response: answers({ 200: CommandList }) } }, async (req) => ({
    items: (await core.scripts.list(actorOf(req))).map(commandView),
  }));
  api.post('/commands', { schema: { tags, summary: 'Save a command', body: CreateCommandBody, response: answers({ 201: Command }) } }, async (req, reply) =>
    reply.status(201).send(commandView(await core.scripts.create(actorOf(req), req.body))),
  );
  api.get('/commands/:id', { schema: { tags, summary: 'A command, by id or name', params, response: answers({ 200: Command }) } }, async (req) =>
    commandView(await core.scripts.get(actorOf(req), req.params.id)),
  );
  api.patch(
    '/commands/:id',
    { schema: { tags, summary: 'Change a command; fields left out keep their values', params, body: CommandPatch, response: answers({ 200: Command }) } },
    async (req) => {
      const actor = actorOf(req);
      const current = await core.scripts.get(actor, req.params.id);
      return commandView(await core.scripts.update(actor, current.id, req.body));
    },
  );
  api.delete('/commands/:id', { schema: { tags, summary: 'Delete a command', params, response: answers({ 204: NoContent }) } }, async (req, reply) => {
    const actor = actorOf(req);
    await core.scripts.remove(actor, (await core.scripts.get(actor, req.params.id)).id);
    return reply.status(204).send();
  });
  api.post(
    '/commands/:id/run',
    {
      schema: {
        tags,
        summary: 'Run a command now, on its targets or the systems given',
        params,
        body: Type.Optional(RunCommandBody),
        response: answers({ 201: Launched }),
      },
    },
    async (req, reply) => {
      const { system_ids, env, run_env: runEnv } = req.body ?? {};
      const { job, runs } = await core.commands.runNow(actorOf(req), req.params.id, {
        ...(system_ids ? { systemIds: system_ids } : {}),
        ...(env ? { env } : {}),
        ...(runEnv ? { runEnv } : {}),
      });
      return reply.status(201).send({ job: view.job(job), runs: runs.map(view.run) });
    },
  );
  api.get(
    '/commands/:id/results',
    { schema: { tags, summary: "A command's ended runs, newest first", params, querystring: CommandResultsQuery, response: answers({ 200: CommandResults }) } },
    async (req) => {
      const q = req.query;
      const actor = actorOf(req);
      const command = await core.scripts.get(actor, req.params.id);
      const { total, items } = await core.commands.listResults(actor, {
        commandId: command.id,
        limit: q.limit ? Number(q.limit) : 100,
        skip: Number(q.skip ?? 0),
      });
      return { total, items: items.map(resultView) };
    },
  );
}
