import type { FastifyInstance } from 'fastify';
import { CreateUserBody, IdList, IdParams, NoContent, SystemRef, User, UserList, UserPatch, UserSystemParams } from '../../../api/native/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { inventoryView, toCoreFields } from '../inventory-views.js';
import { answers } from '../schemas.js';

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

  api.get(
    '/users/:id/systems',
    { schema: { tags, summary: 'The ids of the systems a user is bound to', params: IdParams, response: answers({ 200: IdList }) } },
    async (req) => ({
      items: await core.users.systemsOf(actorOf(req), req.params.id),
    }),
  );

  api.post(
    '/users/:id/systems',
    { schema: { tags, summary: 'Bind the user to a system (operator; idempotent)', params: IdParams, body: SystemRef, response: none } },
    async (req, reply) => {
      await core.users.changeBinding(actorOf(req), req.params.id, req.body.system_id, 'add');
      return reply.status(204).send();
    },
  );

  api.delete(
    '/users/:id/systems/:systemId',
    { schema: { tags, summary: 'Unbind the user from a system (operator; idempotent)', params: UserSystemParams, response: none } },
    async (req, reply) => {
      await core.users.changeBinding(actorOf(req), req.params.id, req.params.systemId, 'remove');
      return reply.status(204).send();
    },
  );
}
