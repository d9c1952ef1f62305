import type { FastifyInstance } from 'fastify';
import Type, { type TString } from 'typebox';
import { IdList, NoContent, SystemRef } from '../../../api/native/index.js';
import type { Actor } from '../../../core/access/index.js';
import type { MembershipOp } from '../../../core/groups/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf } from '../context.js';
import { answers } from '../schemas.js';

/** A resource's links to systems (a group's members, a user's systems) as three routes. */
export interface SystemLinkRoutes {
  /** The collection's path, e.g. `/groups/:id/members`; one link is `<path>/:systemId`. */
  path: string;
  tags: string[];
  /** The schema of the resource's `:id`. */
  id: TString;
  summaries: { list: string; add: string; remove: string };
  list: (caller: Actor, id: string) => Promise<string[]>;
  change: (caller: Actor, id: string, systemId: string, op: MembershipOp) => Promise<void>;
}

/** GET and POST `path` (list, add `{system_id}`) and DELETE `path/:systemId`; adding and removing are idempotent (204). */
export function systemLinkRoutes(app: FastifyInstance, spec: SystemLinkRoutes): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const { tags } = spec;
  const none = answers({ 204: NoContent });
  const params = Type.Object({ id: spec.id });
  const linkParams = Type.Object({ id: spec.id, systemId: Type.String({ maxLength: 64 }) });

  api.get(spec.path, { schema: { tags, summary: spec.summaries.list, params, response: answers({ 200: IdList }) } }, async (req) => ({
    items: await spec.list(actorOf(req), req.params.id),
  }));

  api.post(spec.path, { schema: { tags, summary: spec.summaries.add, params, body: SystemRef, response: none } }, async (req, reply) => {
    await spec.change(actorOf(req), req.params.id, req.body.system_id, 'add');
    return reply.status(204).send();
  });

  api.delete(`${spec.path}/:systemId`, { schema: { tags, summary: spec.summaries.remove, params: linkParams, response: none } }, async (req, reply) => {
    const { id, systemId } = req.params;
    await spec.change(actorOf(req), id, systemId, 'remove');
    return reply.status(204).send();
  });
}
