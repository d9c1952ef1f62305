import type { FastifyInstance } from 'fastify';
import { CreateGroupBody, Group, GroupList, GroupMemberParams, GroupParams, GroupPatch, IdList, NoContent, SystemRef } from '../../../api/native/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { inventoryView } from '../inventory-views.js';
import { answers } from '../schemas.js';

/** /v1/groups: named sets of systems (by id or name in paths). */
export function groupRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const tags = ['groups'];
  const one = answers({ 200: Group });
  const none = answers({ 204: NoContent });

  api.get('/groups', { schema: { tags, summary: 'List groups', response: answers({ 200: GroupList }) } }, async (req) => ({
    items: (await core.groups.list(actorOf(req))).map(inventoryView.group),
  }));

  api.post(
    '/groups',
    { schema: { tags, summary: 'Create a group (operator)', body: CreateGroupBody, response: answers({ 201: Group }) } },
    async (req, reply) => reply.status(201).send(inventoryView.group(await core.groups.create(actorOf(req), req.body))),
  );

  api.get('/groups/:id', { schema: { tags, summary: 'One group', params: GroupParams, response: one } }, async (req) =>
    inventoryView.group(await core.groups.get(actorOf(req), req.params.id)),
  );

  api.patch(
    '/groups/:id',
    { schema: { tags, summary: 'Rename or describe a group (operator)', params: GroupParams, body: GroupPatch, response: one } },
    async (req) => inventoryView.group(await core.groups.update(actorOf(req), req.params.id, req.body)),
  );

  api.delete('/groups/:id', { schema: { tags, summary: 'Delete a group (its systems stay)', params: GroupParams, response: none } }, async (req, reply) => {
    await core.groups.remove(actorOf(req), req.params.id);
    return reply.status(204).send();
  });

  api.get(
    '/groups/:id/members',
    { schema: { tags, summary: "The ids of a group's systems", params: GroupParams, response: answers({ 200: IdList }) } },
    async (req) => ({
      items: await core.groups.members(actorOf(req), req.params.id),
    }),
  );

  api.post(
    '/groups/:id/members',
    { schema: { tags, summary: 'Add a system (operator; idempotent)', params: GroupParams, body: SystemRef, response: none } },
    async (req, reply) => {
      await core.groups.changeMember(actorOf(req), req.params.id, req.body.system_id, 'add');
      return reply.status(204).send();
    },
  );

  api.delete(
    '/groups/:id/members/:systemId',
    { schema: { tags, summary: 'Remove a system (operator; idempotent)', params: GroupMemberParams, response: none } },
    async (req, reply) => {
      await core.groups.changeMember(actorOf(req), req.params.id, req.params.systemId, 'remove');
      return reply.status(204).send();
    },
  );
}
