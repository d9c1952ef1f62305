import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf, type NativeDeps } from '../context.js';
import { IdParams, Role, Tags } from '../schemas.js';
import { inventoryView } from '../inventory-views.js';
import { view } from '../views.js';

const EnrollmentKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    tags: Type.Optional(Tags),
    groups: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50, description: 'group ids or names that enrolled systems join' })),
    expires_at: Type.Optional(Type.Union([Type.String({ format: 'date-time', maxLength: 40 }), Type.Null()])),
    max_uses: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  },
  { additionalProperties: false },
);

/** /v1/api-keys and /v1/enrollment-keys: admins create (shown once), list and revoke. */
export function keyRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  app.get('/api-keys', { config: { role: 'admin' }, schema: { tags: ['keys'], summary: 'List API keys' } }, async (req) => ({
    items: (await core.keys.listApiKeys(actorOf(req))).map(view.apiKey),
  }));

  app.post(
    '/api-keys',
    { config: { role: 'admin' }, schema: { tags: ['keys'], summary: 'Create an API key (the secret is shown once)', body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: Role }, { additionalProperties: false }) } },
    async (req, reply) => {
      const { key, secret } = await core.keys.createApiKey(actorOf(req), req.body as { name: string; role: string });
      return reply.status(201).send({ key: view.apiKey(key), secret });
    },
  );

  app.delete('/api-keys/:id', { config: { role: 'admin' }, schema: { tags: ['keys'], summary: 'Revoke an API key', params: IdParams } }, async (req, reply) => {
    await core.keys.revokeApiKey(actorOf(req), (req.params as { id: string }).id);
    return reply.status(204).send();
  });

  app.get('/enrollment-keys', { config: { role: 'admin' }, schema: { tags: ['keys'], summary: 'List enrollment keys' } }, async (req) => ({
    items: (await core.keys.listEnrollmentKeys(actorOf(req))).map(inventoryView.enrollmentKey),
  }));

  app.post(
    '/enrollment-keys',
    { config: { role: 'admin' }, schema: { tags: ['keys'], summary: 'Create an enrollment key (the secret is shown once): tags, groups to join, expiry, maximum uses', body: EnrollmentKeyBody } },
    async (req, reply) => {
      const { key, secret } = await core.keys.createEnrollmentKey(actorOf(req), req.body as { name: string });
      return reply.status(201).send({ key: inventoryView.enrollmentKey(key), secret });
    },
  );

  app.delete('/enrollment-keys/:id', { config: { role: 'admin' }, schema: { tags: ['keys'], summary: 'Revoke an enrollment key', params: IdParams } }, async (req, reply) => {
    await core.keys.revokeEnrollmentKey(actorOf(req), (req.params as { id: string }).id);
    return reply.status(204).send();
  });
}
