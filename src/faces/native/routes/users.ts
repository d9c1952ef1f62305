import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf, type NativeDeps } from '../context.js';
import { inventoryView, toCoreFields } from '../inventory-views.js';
import { IdParams } from '../schemas.js';

const FIELDS = { username: 'username', email: 'email', first_name: 'firstName', last_name: 'lastName' };
const Fields = {
  email: Type.Optional(Type.String({ maxLength: 254 })),
  first_name: Type.Optional(Type.String({ maxLength: 100 })),
  last_name: Type.Optional(Type.String({ maxLength: 100 })),
};
const UserBody = Type.Object({ username: Type.String({ minLength: 1, maxLength: 32 }), ...Fields }, { additionalProperties: false });
const UserPatch = Type.Object({ username: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })), ...Fields }, { additionalProperties: false });
const BindBody = Type.Object({ system_id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const BindParams = Type.Object({ id: Type.String({ maxLength: 64 }), systemId: Type.String({ maxLength: 64 }) });

/** /v1/users: system users and the systems they are bound to. */
export function userRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const id = (req: { params: unknown }) => (req.params as { id: string }).id;

  app.get('/users', { schema: { tags: ['users'], summary: 'List system users' } }, async (req) => ({ items: (await core.users.list(actorOf(req))).map(inventoryView.user) }));

  app.post('/users', { schema: { tags: ['users'], summary: 'Create a system user (operator)', body: UserBody } }, async (req, reply) => {
    const { input, names } = toCoreFields(req.body, FIELDS);
    return reply.status(201).send(inventoryView.user(await core.users.create(actorOf(req), input, names)));
  });

  app.get('/users/:id', { schema: { tags: ['users'], summary: 'One system user', params: IdParams } }, async (req) => inventoryView.user(await core.users.get(actorOf(req), id(req))));

  app.patch('/users/:id', { schema: { tags: ['users'], summary: 'Change a system user (operator)', params: IdParams, body: UserPatch } }, async (req) => {
    const { input, names } = toCoreFields(req.body, FIELDS);
    return inventoryView.user(await core.users.update(actorOf(req), id(req), input, names));
  });

  app.delete('/users/:id', { schema: { tags: ['users'], summary: 'Delete a system user (operator)', params: IdParams } }, async (req, reply) => {
    await core.users.remove(actorOf(req), id(req));
    return reply.status(204).send();
  });

  app.get('/users/:id/systems', { schema: { tags: ['users'], summary: 'The ids of the systems a user is bound to', params: IdParams } }, async (req) => ({
    items: await core.users.systemsOf(actorOf(req), id(req)),
  }));

  app.post('/users/:id/systems', { schema: { tags: ['users'], summary: 'Bind the user to a system (operator; idempotent)', params: IdParams, body: BindBody } }, async (req, reply) => {
    await core.users.changeBinding(actorOf(req), id(req), (req.body as { system_id: string }).system_id, 'add');
    return reply.status(204).send();
  });

  app.delete('/users/:id/systems/:systemId', { schema: { tags: ['users'], summary: 'Unbind the user from a system (operator; idempotent)', params: BindParams } }, async (req, reply) => {
    await core.users.changeBinding(actorOf(req), id(req), (req.params as { systemId: string }).systemId, 'remove');
    return reply.status(204).send();
  });
}
