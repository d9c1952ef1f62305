import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf, type NativeDeps } from '../context.js';
import { inventoryView, NATIVE_SYSTEM_FIELDS, toCoreFields } from '../inventory-views.js';
import { IdParams, Tags } from '../schemas.js';

/** What may change on a system; anything else (e.g. `hostname`, `id`) is a 400 naming the field. */
const SystemPatch = Type.Object(
  {
    display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    tags: Type.Optional(Tags),
    attributes: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 1024 }))),
  },
  { additionalProperties: true },
);

/** /v1/systems: the managed machines, their groups and users. */
export function systemRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  app.get(
    '/systems',
    { schema: { tags: ['systems'], summary: 'List systems, optionally those a selector matches', querystring: Type.Object({ select: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: false }) } },
    async (req) => ({
      items: (await core.systems.list(actorOf(req), (req.query as { select?: string }).select)).map(inventoryView.system),
      next_cursor: null,
    }),
  );

  app.get('/systems/:id', { schema: { tags: ['systems'], summary: 'One system', params: IdParams } }, async (req) =>
    inventoryView.system(await core.systems.get(actorOf(req), (req.params as { id: string }).id)),
  );

  app.patch(
    '/systems/:id',
    { schema: { tags: ['systems'], summary: 'Change display name, description, tags or attributes (operator)', params: IdParams, body: SystemPatch } },
    async (req) => {
      const { input, names } = toCoreFields(req.body, NATIVE_SYSTEM_FIELDS);
      return inventoryView.system(await core.systems.update(actorOf(req), (req.params as { id: string }).id, input, names));
    },
  );

  app.delete('/systems/:id', { schema: { tags: ['systems'], summary: 'Delete a system: its key stops working, its runs stay (admin)', params: IdParams } }, async (req, reply) => {
    await core.systems.remove(actorOf(req), (req.params as { id: string }).id);
    return reply.status(204).send();
  });

  app.get('/systems/:id/groups', { schema: { tags: ['systems'], summary: 'The groups a system belongs to', params: IdParams } }, async (req) => ({
    items: (await core.groups.ofSystem(actorOf(req), (req.params as { id: string }).id)).map(inventoryView.group),
  }));

  app.get('/systems/:id/users', { schema: { tags: ['systems'], summary: 'The users bound to a system', params: IdParams } }, async (req) => ({
    items: (await core.users.ofSystem(actorOf(req), (req.params as { id: string }).id)).map(inventoryView.user),
  }));
}
