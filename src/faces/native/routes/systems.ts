import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf, type NativeDeps } from '../context.js';
import { IdParams } from '../schemas.js';
import { view } from '../views.js';

/** /v1/systems: the managed machines. */
export function systemRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  app.get(
    '/systems',
    { schema: { tags: ['systems'], summary: 'List systems, optionally those a selector matches', querystring: Type.Object({ select: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: false }) } },
    async (req) => ({
      items: (await core.systems.list(actorOf(req), (req.query as { select?: string }).select)).map(view.system),
      next_cursor: null,
    }),
  );

  app.get('/systems/:id', { schema: { tags: ['systems'], summary: 'One system', params: IdParams } }, async (req) =>
    view.system(await core.systems.get(actorOf(req), (req.params as { id: string }).id)),
  );
}
