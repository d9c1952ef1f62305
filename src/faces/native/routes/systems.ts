import type { FastifyInstance } from 'fastify';
import { GroupList, IdParams, NoContent, System, SystemList, SystemListQuery, SystemPatch, UserList } from '../../../api/native/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { inventoryView, NATIVE_SYSTEM_FIELDS, toCoreFields } from '../inventory-views.js';
import { answers } from '../schemas.js';

/** /v1/systems: the managed machines, their groups and users. */
export function systemRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const tags = ['systems'];

  api.get(
    '/systems',
    {
      schema: {
        tags,
        summary: 'List systems, optionally those a selector matches; a page of them with limit, cursor and sort',
        querystring: SystemListQuery,
        response: answers({ 200: SystemList }),
      },
    },
    async (req) => {
      const { select, limit, cursor, sort } = req.query;
      if (limit === undefined && cursor === undefined && sort === undefined) {
        const items = (await core.systems.list(actorOf(req), select)).map(inventoryView.system);
        return { items, next_cursor: null, total: items.length };
      }
      const page = await core.systems.page(actorOf(req), { select, sort, cursor, limit: limit === undefined ? 100 : Number(limit) });
      return { items: page.items.map(inventoryView.system), next_cursor: page.nextCursor, total: page.total };
    },
  );

  api.get('/systems/:id', { schema: { tags, summary: 'One system', params: IdParams, response: answers({ 200: System }) } }, async (req) =>
    inventoryView.system(await core.systems.get(actorOf(req), req.params.id)),
  );

  api.patch(
    '/systems/:id',
    {
      schema: {
        tags,
        summary: 'Change display name, description, tags or attributes (operator)',
        params: IdParams,
        body: SystemPatch,
        response: answers({ 200: System }),
      },
    },
    async (req) => {
      const { input, names } = toCoreFields(req.body, NATIVE_SYSTEM_FIELDS);
      return inventoryView.system(await core.systems.update(actorOf(req), req.params.id, input, names));
    },
  );

  api.delete(
    '/systems/:id',
    { schema: { tags, summary: 'Delete a system: its key stops working, its runs stay (admin)', params: IdParams, response: answers({ 204: NoContent }) } },
    async (req, reply) => {
      await core.systems.remove(actorOf(req), req.params.id);
      return reply.status(204).send();
    },
  );

  api.get(
    '/systems/:id/groups',
    { schema: { tags, summary: 'The groups a system belongs to', params: IdParams, response: answers({ 200: GroupList }) } },
    async (req) => ({
      items: (await core.groups.ofSystem(actorOf(req), req.params.id)).map(inventoryView.group),
    }),
  );

  api.get(
    '/systems/:id/users',
    { schema: { tags, summary: 'The users bound to a system', params: IdParams, response: answers({ 200: UserList }) } },
    async (req) => ({
      items: (await core.users.ofSystem(actorOf(req), req.params.id)).map(inventoryView.user),
    }),
  );
}
