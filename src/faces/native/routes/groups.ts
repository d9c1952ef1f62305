import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf, type NativeDeps } from '../context.js';
import { inventoryView } from '../inventory-views.js';

const Params = Type.Object({ id: Type.String({ maxLength: 100, description: 'group id or name' }) });
const MemberParams = Type.Object({ id: Type.String({ maxLength: 100 }), systemId: Type.String({ maxLength: 64 }) });
const GroupBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), description: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: false });
const GroupPatch = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), description: Type.Optional(Type.String({ maxLength: 4096 })) },
  { additionalProperties: false },
);
const MemberBody = Type.Object({ system_id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

/** /v1/groups: named sets of systems (by id or name in paths). */
export function groupRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const id = (req: { params: unknown }) => (req.params as { id: string }).id;

  app.get('/groups', { schema: { tags: ['groups'], summary: 'List groups' } }, async (req) => ({ items: (await core.groups.list(actorOf(req))).map(inventoryView.group) }));

  app.post('/groups', { schema: { tags: ['groups'], summary: 'Create a group (operator)', body: GroupBody } }, async (req, reply) =>
    reply.status(201).send(inventoryView.group(await core.groups.create(actorOf(req), req.body as { name: string }))),
  );

  app.get('/groups/:id', { schema: { tags: ['groups'], summary: 'One group', params: Params } }, async (req) => inventoryView.group(await core.groups.get(actorOf(req), id(req))));

  app.patch('/groups/:id', { schema: { tags: ['groups'], summary: 'Rename or describe a group (operator)', params: Params, body: GroupPatch } }, async (req) =>
    inventoryView.group(await core.groups.update(actorOf(req), id(req), req.body as { name?: string })),
  );

  app.delete('/groups/:id', { schema: { tags: ['groups'], summary: 'Delete a group (its systems stay)', params: Params } }, async (req, reply) => {
    await core.groups.remove(actorOf(req), id(req));
    return reply.status(204).send();
  });

  app.get('/groups/:id/members', { schema: { tags: ['groups'], summary: 'The ids of a group\'s systems', params: Params } }, async (req) => ({
    items: await core.groups.members(actorOf(req), id(req)),
  }));

  app.post('/groups/:id/members', { schema: { tags: ['groups'], summary: 'Add a system (operator; idempotent)', params: Params, body: MemberBody } }, async (req, reply) => {
    await core.groups.changeMember(actorOf(req), id(req), (req.body as { system_id: string }).system_id, 'add');
    return reply.status(204).send();
  });

  app.delete('/groups/:id/members/:systemId', { schema: { tags: ['groups'], summary: 'Remove a system (operator; idempotent)', params: MemberParams } }, async (req, reply) => {
    await core.groups.changeMember(actorOf(req), id(req), (req.params as { systemId: string }).systemId, 'remove');
    return reply.status(204).send();
  });
}
