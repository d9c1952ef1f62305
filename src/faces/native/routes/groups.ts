import type { FastifyInstance } from 'fastify';
import { CreateGroupBody, Group, GroupList, GroupParams, GroupPatch, NoContent } from '../../../api/native/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { inventoryView } from '../inventory-views.js';
import { answers } from '../schemas.js';
import { systemLinkRoutes } from './system-links.js';

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

  systemLinkRoutes(app, {
    path: '/groups/:id/members',
    tags,
    id: GroupParams.properties.id,
    summaries: { list: "The ids of a group's systems", add: 'Add a system (operator; idempotent)', remove: 'Remove a system (operator; idempotent)' },
    list: (actor, id) => core.groups.members(actor, id),
    change: (actor, id, systemId, op) => core.groups.changeMember(actor, id, systemId, op),
  });
}
