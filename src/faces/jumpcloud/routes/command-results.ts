import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { adminOf, type JumpCloudDeps } from '../context.js';
import { commandResultView } from './command-shape.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const ListQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })), skip: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })) },
  { additionalProperties: true },
);

/** JumpCloud v1 command results: one per run of a command's job. */
export function commandResultRoutes(app: FastifyInstance, { core }: JumpCloudDeps): void {
  const list = async (actor: ReturnType<typeof adminOf>, q: { limit?: string; skip?: string }, commandId?: string) => {
    const { total, items } = await core.commands.listResults(actor, { limit: q.limit ? Number(q.limit) : 100, skip: Number(q.skip ?? 0), ...(commandId ? { commandId } : {}) });
    // JumpCloud lists results without their output; one result (GET by id) has it.
    return { totalCount: total, results: items.map((r) => commandResultView(r, false)) };
  };

  app.get('/commandresults', { schema: { querystring: ListQuery } }, async (req) => list(adminOf(req), req.query as { limit?: string; skip?: string }));

  app.get('/commands/:id/results', { schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }), querystring: ListQuery } }, async (req) =>
    (await list(adminOf(req), req.query as { limit?: string; skip?: string }, (req.params as { id: string }).id)).results,
  );

  app.get('/commandresults/:id', { schema: { params: IdParams } }, async (req) => commandResultView(await core.commands.getResult(adminOf(req), (req.params as { id: string }).id)));

  app.delete('/commandresults/:id', { schema: { params: IdParams } }, async (req) => commandResultView(await core.commands.deleteResult(adminOf(req), (req.params as { id: string }).id)));
}
