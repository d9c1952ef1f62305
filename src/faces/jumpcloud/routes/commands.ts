import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { Actor, Core } from '../../../core/index.js';
import type { ScriptInput } from '../../../core/scripts/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { adminOf, type JumpCloudDeps } from '../context.js';
import { CommandBody, commandInput, commandView } from './command-shape.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const ListQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })), skip: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })) },
  { additionalProperties: true },
);
const RunBody = Type.Object(
  { _id: Type.String({ minLength: 1, maxLength: 100 }), systemIds: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 10_000 })) },
  { additionalProperties: true },
);

/** JumpCloud names the user to run as by its id; muster runs as a user name. */
async function withUserName(core: Core, actor: Actor, input: ScriptInput): Promise<ScriptInput> {
  if (typeof input.run_as !== 'string' || !/^[a-f0-9]{24}$/.test(input.run_as)) return input;
  return { ...input, run_as: (await core.users.get(actor, input.run_as)).username };
}

/** JumpCloud v1 commands: `/api/commands`, `/api/commands/{id}`, `/api/runCommand`. */
export function jumpCloudCommandRoutes(app: FastifyInstance, { core }: JumpCloudDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  api.get('/commands', { schema: { querystring: ListQuery } }, async (req) => {
    const q = req.query;
    const all = await core.scripts.list(adminOf(req));
    const skip = Number(q.skip ?? 0);
    const limit = Math.min(Number(q.limit ?? 100) || 100, 1000);
    return { totalCount: all.length, results: all.slice(skip, skip + limit).map(commandView) };
  });

  api.post('/commands', { schema: { body: CommandBody } }, async (req) => {
    const actor = adminOf(req);
    const body = req.body;
    const script = await core.scripts.create(actor, await withUserName(core, actor, { ...commandInput(body), name: body.name, content: body.command }));
    return commandView(script);
  });

  api.get('/commands/:id', { schema: { params: IdParams } }, async (req) => commandView(await core.scripts.get(adminOf(req), req.params.id)));

  api.put('/commands/:id', { schema: { params: IdParams, body: CommandBody } }, async (req) => {
    const actor = adminOf(req);
    const current = await core.scripts.get(actor, req.params.id);
    return commandView(await core.scripts.update(actor, current.id, await withUserName(core, actor, commandInput(req.body, current))));
  });

  api.delete('/commands/:id', { schema: { params: IdParams } }, async (req) => {
    const actor = adminOf(req);
    const current = await core.scripts.get(actor, req.params.id);
    await core.scripts.remove(actor, current.id);
    return commandView(current);
  });

  api.post('/runCommand', { schema: { body: RunBody } }, async (req) => {
    const body = req.body;
    const { job, runs } = await core.commands.runNow(adminOf(req), body._id, body.systemIds ? { systemIds: body.systemIds } : {});
    return { queueIds: runs.map((r) => r.id), workflowInstanceId: job.id };
  });
}
