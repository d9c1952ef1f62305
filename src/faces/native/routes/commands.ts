import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { CommandResultRecord } from '../../../core/commands/index.js';
import type { ScriptInput, ScriptRecord } from '../../../core/scripts/index.js';
import { actorOf, type NativeDeps } from '../context.js';
import { Shell } from '../schemas.js';
import { view } from '../views.js';
import { scriptView } from './scripts.js';

const Targets = Type.Object(
  {
    system_ids: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 10_000 })),
    group_ids: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 10_000 })),
    selector: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()])),
  },
  { additionalProperties: false, description: 'The systems the command is bound to' },
);

/** No `default`s: on PATCH a missing field means "keep". Core checks the rules between fields. */
const fields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  content: Type.String({ minLength: 1 }),
  shell: Shell,
  run_as: Type.Union([Type.String({ maxLength: 32 }), Type.Null()]),
  timeout_s: Type.Integer({ minimum: 1, maximum: 86_400 }),
  ttl_s: Type.Integer({ minimum: 1, maximum: 604_800 }),
  default_targets: Targets,
  trigger: Type.Union([Type.String({ maxLength: 64, description: 'Trigger calls with this name start the command' }), Type.Null()]),
  launch_type: Type.String({ description: 'manual, trigger, repeated or one-time' }),
  schedule: Type.Union([Type.String({ maxLength: 100, description: 'Cron, 5 fields or 6 with seconds first' }), Type.Null()]),
  timezone: Type.Union([Type.String({ maxLength: 64, description: 'IANA time zone of the schedule; default UTC' }), Type.Null()]),
  run_at: Type.Union([Type.String({ maxLength: 40, description: 'ISO-8601 instant of a one-time launch' }), Type.Null()]),
  run_on_enroll: Type.Boolean({ description: 'Launch on each newly enrolled system the targets cover' }),
  platform: Type.Union([Type.String(), Type.Null()]),
};
const { name: _name, content: _content, ...optional } = fields;
const CreateBody = Type.Object({ name: fields.name, content: fields.content, ...Object.fromEntries(Object.entries(optional).map(([k, v]) => [k, Type.Optional(v)])) }, { additionalProperties: false });
const UpdateBody = Type.Partial(Type.Object(fields), { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const RunBody = Type.Object(
  { system_ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 10_000 })), env: Type.Optional(Type.Record(Type.String(), Type.String())) },
  { additionalProperties: false },
);
const ResultsQuery = Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })), skip: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })) }, { additionalProperties: false });

/** A command: a script with its trigger, schedule and run-on-enroll. */
export function commandView(s: ScriptRecord) {
  return {
    ...scriptView(s), trigger: s.triggerName, launch_type: s.launchType, schedule: s.schedule, timezone: s.timezone, run_at: s.runAt,
    run_on_enroll: s.runOnEnroll, platform: s.platform, next_fire_at: s.nextFireAt,
  };
}

function resultView(r: CommandResultRecord) {
  return {
    run_id: r.runId, job_id: r.jobId, command_id: r.commandId, command_name: r.commandName, system_id: r.systemId, hostname: r.hostname, state: r.state,
    exit_code: r.exitCode, reason: r.reason, stdout: r.stdout, stderr: r.stderr, created_at: r.createdAt, finished_at: r.finishedAt,
  };
}

/** /v1/commands: saved scripts with their command settings, run now, and their results. */
export function commandRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const tags = ['commands'];
  const id = (req: { params: unknown }) => (req.params as { id: string }).id;
  app.get('/commands', { schema: { tags, summary: 'List commands' } }, async (req) => ({ items: (await core.scripts.list(actorOf(req))).map(commandView) }));
  app.post('/commands', { schema: { tags, summary: 'Save a command', body: CreateBody } }, async (req, reply) =>
    reply.status(201).send(commandView(await core.scripts.create(actorOf(req), req.body as ScriptInput))),
  );
  app.get('/commands/:id', { schema: { tags, summary: 'A command, by id or name', params: IdParams } }, async (req) => commandView(await core.scripts.get(actorOf(req), id(req))));
  app.patch('/commands/:id', { schema: { tags, summary: 'Change a command; fields left out keep their values', params: IdParams, body: UpdateBody } }, async (req) => {
    const actor = actorOf(req);
    const current = await core.scripts.get(actor, id(req));
    return commandView(await core.scripts.update(actor, current.id, req.body as ScriptInput));
  });
  app.delete('/commands/:id', { schema: { tags, summary: 'Delete a command', params: IdParams } }, async (req, reply) => {
    const actor = actorOf(req);
    await core.scripts.remove(actor, (await core.scripts.get(actor, id(req))).id);
    return reply.status(204).send();
  });
  app.post('/commands/:id/run', { schema: { tags, summary: 'Run a command now, on its targets or the systems given', params: IdParams, body: Type.Optional(RunBody) } }, async (req, reply) => {
    const body = (req.body ?? {}) as { system_ids?: string[]; env?: Record<string, string> };
    const { job, runs } = await core.commands.runNow(actorOf(req), id(req), { ...(body.system_ids ? { systemIds: body.system_ids } : {}), ...(body.env ? { env: body.env } : {}) });
    return reply.status(201).send({ job: view.job(job), runs: runs.map(view.run) });
  });
  app.get('/commands/:id/results', { schema: { tags, summary: "A command's ended runs, newest first", params: IdParams, querystring: ResultsQuery } }, async (req) => {
    const q = req.query as { limit?: string; skip?: string };
    const actor = actorOf(req);
    const command = await core.scripts.get(actor, id(req));
    const { total, items } = await core.commands.listResults(actor, { commandId: command.id, limit: q.limit ? Number(q.limit) : 100, skip: Number(q.skip ?? 0) });
    return { total, items: items.map(resultView) };
  });
}
