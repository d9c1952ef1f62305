import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf, type NativeDeps } from '../context.js';

import { view } from '../views.js';

/** /v1/whoami and /v1/organizations. */
export function organizationRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  app.get('/whoami', { schema: { tags: ['organizations'], summary: 'The organization and role of the calling key' } }, async (req) => {
    const actor = actorOf(req);
    const org = await core.organizations.get(actor);
    return { organization_id: org.id, organization_name: org.name, organization_slug: org.slug, key_id: actor.label.replace(/^api_key:/, ''), role: actor.role };
  });

  app.post(
    '/organizations',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['organizations'],
        summary: 'Create an organization with its first admin key (admins of the default organization only)',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), slug: Type.String({ minLength: 1, maxLength: 63 }) }, { additionalProperties: false }),

      },
    },
    async (req, reply) => {
      const { organization, apiKey } = await core.organizations.create(actorOf(req), req.body as { name: string; slug: string });
      return reply.status(201).send({ organization: view.organization(organization), api_key: apiKey });
    },
  );
}
