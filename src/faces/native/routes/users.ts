import type { FastifyInstance } from 'fastify';
import { CreateUserBody, IdParams, NoContent, User, UserList, UserPatch } from '../../../api/native/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { inventoryView, toCoreFields } from '../inventory-views.js';
import { answers } from '../schemas.js';
import { systemLinkRoutes } from './system-links.js';

const FIELDS = { username: 'username', email: 'email', first_name: 'firstName', last_name: 'lastName' };

/** /v1/users: system users and the systems they are bound to. */
export function userRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const tags = ['users'];
  const none = answers({ 204: NoContent });

  api.get('/users', { schema: { tags, summary: 'List system users', response: answers({ 200: UserList }) } }, async (req) => ({
    items: (await core.users.list(actorOf(req))).map(inventoryView.user),
  }));

  api.post(
    '/users',
    { schema: { tags, summary: 'Create a system user (operator)', body: CreateUserBody, response: answers({ 201: User }) } },
    async (req, reply) => {
      const { input, names } = toCoreFields(req.body, FIELDS);
      return reply.status(201).send(inventoryView.user(await core.users.create(actorOf(req), input, names)));
    },
  );

  api.get('/users/:id', { schema: { tags, summary: 'One system user', params: IdParams, response: answers({ 200: User }) } }, async (req) =>
    inventoryView.user(await core.users.get(actorOf(req), req.params.id)),
  );

  api.patch(
    '/users/:id',
    { schema: { tags, summary: 'Change a system user (operator)', params: IdParams, body: UserPatch, response: answers({ 200: User }) } },
    async (req) => {
      const { input, names } = toCoreFields(req.body, FIELDS);
      return inventoryView.user(await core.users.update(actorOf(req), req.params.id, input, names));
    },
  );

  api.delete('/users/:id', { schema: { tags, summary: 'Delete a system user (operator)', params: IdParams, response: none } }, async (req, reply) => {
    await core.users.remove(actorOf(req), req.params.id);
    return reply.status(204).send();
  });

  systemLinkRoutes(app, {
    path: '/users/:id/systems',
    tags,
    id: IdParams.properties.id,
    summaries: {
      list: 'The ids of the systems a user is bound to',
      add: 'Bind the user to a system (operator; idempotent)',
      remove: 'Unbind the user from a system (operator; idempotent)',
    },
    list: (actor, id) => core.users.systemsOf(actor, id),
    change: (actor, id, systemId, op) => core.users.changeBinding(actor, id, systemId, op),
  });
}
