import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { SystemFilter, SystemQuery } from '../../../core/systems/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { adminOf, type JumpCloudDeps } from '../context.js';
import { JC_QUERY_FIELDS, JC_SYSTEM_FIELDS, jcSystem, toCoreFields } from '../inventory-views.js';
import { filters, paging, projection, sortKeys, V1ListQuery, type V1ListParams } from '../list-query.js';
import { callerOf } from '../system-caller.js';

const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
const OneQuery = Type.Object({ fields: Type.Optional(Type.String({ maxLength: 1024 })) });
const OPS: Record<string, SystemFilter['op']> = { $eq: 'eq', $ne: 'ne', $gt: 'gt', $lt: 'lt', $in: 'in', $regex: 'contains' };

function parseListQuery(q: V1ListParams): SystemQuery {
  return { filters: filters(q.filter, JC_QUERY_FIELDS, OPS), sort: sortKeys(q.sort, JC_QUERY_FIELDS), ...paging(q, 10) };
}

/** /api/systems (v1): list with limit/skip/sort/fields/filter (API key); one system's GET/PUT/DELETE (API key, or the system itself). */
export function jumpcloudSystemRoutes(app: FastifyInstance, { core }: JumpCloudDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  api.get('/systems', { schema: { querystring: V1ListQuery, hide: true } }, async (req) => {
    const q = req.query;
    const project = projection(q.fields);
    const page = await core.systems.query(adminOf(req), parseListQuery(q));
    return { totalCount: page.total, results: page.items.map((s) => project(jcSystem(s))) };
  });

  api.get('/systems/:id', { schema: { params: Params, querystring: OneQuery, hide: true } }, async (req) => {
    const project = projection(req.query.fields);
    return project(jcSystem(await core.systems.get(callerOf(req), req.params.id)));
  });

  api.put('/systems/:id', { schema: { params: Params, hide: true } }, async (req) => {
    const { patch, names } = toCoreFields(req.body, JC_SYSTEM_FIELDS);
    return jcSystem(await core.systems.update(callerOf(req), req.params.id, patch, names));
  });

  api.delete('/systems/:id', { schema: { params: Params, hide: true } }, async (req) => jcSystem(await core.systems.remove(callerOf(req), req.params.id)));
}
