import type { FastifyInstance } from 'fastify';
import {
  ApiKeyCreated,
  ApiKeyList,
  CreateApiKeyBody,
  CreateEnrollmentKeyBody,
  EnrollmentKeyCreated,
  EnrollmentKeyList,
  IdParams,
  NoContent,
} from '../../../api/native/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { inventoryView } from '../inventory-views.js';
import { answers } from '../schemas.js';
import { view } from '../views.js';

/** /v1/api-keys and /v1/enrollment-keys: admins create (shown once), list and revoke. */
export function keyRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const config = { role: 'admin' as const };
  const tags = ['keys'];

  api.get('/api-keys', { config, schema: { tags, summary: 'List API keys', response: answers({ 200: ApiKeyList }) } }, async (req) => ({
    items: (await core.keys.listApiKeys(actorOf(req))).map(view.apiKey),
  }));

  api.post(
    '/api-keys',
    { config, schema: { tags, summary: 'Create an API key (the secret is shown once)', body: CreateApiKeyBody, response: answers({ 201: ApiKeyCreated }) } },
    async (req, reply) => {
      const { key, secret } = await core.keys.createApiKey(actorOf(req), req.body);
      return reply.status(201).send({ key: view.apiKey(key), secret });
    },
  );

  api.delete(
    '/api-keys/:id',
    { config, schema: { tags, summary: 'Revoke an API key', params: IdParams, response: answers({ 204: NoContent }) } },
    async (req, reply) => {
      await core.keys.revokeApiKey(actorOf(req), req.params.id);
      return reply.status(204).send();
    },
  );

  api.get('/enrollment-keys', { config, schema: { tags, summary: 'List enrollment keys', response: answers({ 200: EnrollmentKeyList }) } }, async (req) => ({
    items: (await core.keys.listEnrollmentKeys(actorOf(req))).map(inventoryView.enrollmentKey),
  }));

  api.post(
    '/enrollment-keys',
    {
      config,
      schema: {
        tags,
        summary: 'Create an enrollment key (the secret is shown once): tags, groups to join, expiry, maximum uses',
        body: CreateEnrollmentKeyBody,
        response: answers({ 201: EnrollmentKeyCreated }),
      },
    },
    async (req, reply) => {
      const { key, secret } = await core.keys.createEnrollmentKey(actorOf(req), req.body);
      return reply.status(201).send({ key: inventoryView.enrollmentKey(key), secret });
    },
  );

  api.delete(
    '/enrollment-keys/:id',
    { config, schema: { tags, summary: 'Revoke an enrollment key', params: IdParams, response: answers({ 204: NoContent }) } },
    async (req, reply) => {
      await core.keys.revokeEnrollmentKey(actorOf(req), req.params.id);
      return reply.status(204).send();
    },
  );
}
