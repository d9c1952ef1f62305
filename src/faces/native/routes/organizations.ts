import type { FastifyInstance } from 'fastify';
import { CreateOrganizationBody, OrganizationCreated, Whoami } from '../../../api/native/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { answers } from '../schemas.js';
import { view } from '../views.js';

/** /v1/whoami and /v1/organizations. */
export function organizationRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  api.get(
    '/whoami',
    { schema: { tags: ['organizations'], summary: 'The organization and role of the calling key', response: answers({ 200: Whoami }) } },
    async (req) => {
      const actor = actorOf(req);
      const org = await core.organizations.get(actor);
      return {
        organization_id: org.id,
        organization_name: org.name,
        organization_slug: org.slug,
        key_id: actor.label.replace(/^api_key:/, ''),
        role: actor.role,
      };
    },
  );

  api.post(
    '/organizations',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['organizations'],
        summary: 'Create an organization with its first admin key (admins of the default organization only)',
        body: CreateOrganizationBody,
        response: answers({ 201: OrganizationCreated }),
      },
    },
    async (req, reply) => {
      const { organization, apiKey } = await core.organizations.create(actorOf(req), req.body);
      return reply.status(201).send({ organization: view.organization(organization), api_key: apiKey });
    },
  );
}
