import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { Actor } from '../../../core/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { adminOf, type JumpCloudDeps } from '../context.js';
import { paging, projection, sortKeys, type V1ListParams } from '../list-query.js';
import { commandResultListItem, commandResultView, JC_RESULT_SORT_FIELDS } from './command-result-shape.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ maxLength: 16 })),
    skip: Type.Optional(Type.String({ maxLength: 16 })),
    sort: Type.Optional(Type.String({ maxLength: 512 })),
    fields: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: true },
);

/** JumpCloud v1 command results: one per run of a command's job; listings take limit, skip, sort and fields as /api/systems does. */
export function commandResultRoutes(app: FastifyInstance, { core }: JumpCloudDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const list = async (actor: Actor, q: V1ListParams, commandId?: string) => {
    const project = projection(q.fields);
    const { total, items } = await core.commands.listResultSummaries(actor, {
      ...paging(q, 100),
      sort: sortKeys(q.sort, JC_RESULT_SORT_FIELDS),
      ...(commandId ? { commandId } : {}),
    });
    return { totalCount: total, results: items.map((r) => project(commandResultListItem(r))) };
  };

  api.get('/commandresults', { schema: { querystring: ListQuery } }, async (req) => list(adminOf(req), req.query));

  api.get(
    '/commands/:id/results',
    { schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }), querystring: ListQuery } },
    async (req) => (await list(adminOf(req), req.query, req.params.id)).results,
  );

  api.get('/commandresults/:id', { schema: { params: IdParams } }, async (req) =>
    commandResultView(await core.commands.getResult(adminOf(req), req.params.id)),
  );

  api.delete('/commandresults/:id', { schema: { params: IdParams } }, async (req) =>
    commandResultView(await core.commands.deleteResult(adminOf(req), req.params.id)),
  );
}
