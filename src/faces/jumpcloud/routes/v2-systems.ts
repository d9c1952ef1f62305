import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { jcAssociation, jcTraversal, jcUser } from '../inventory-views.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import type { JumpCloudDeps } from '../context.js';
import { callerOf } from '../system-caller.js';

const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
const Targets = Type.Union([Type.Literal('user'), Type.Literal('system_group')]);
const AssociationsQuery = Type.Object(
  {
    targets: Type.Optional(Type.Union([Targets, Type.Array(Targets, { maxItems: 2 })])),
    limit: Type.Optional(Type.String()),
    skip: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
/** `{"op": "add"|"remove", "type": "user"|"system_group", "id": …}` */
const AssociationOp = Type.Object(
  {
    op: Type.Union([Type.Literal('add'), Type.Literal('remove')]),
    type: Targets,
    id: Type.String({ minLength: 1, maxLength: 100 }),
    attributes: Type.Optional(Type.Union([Type.Object({}), Type.Null()])),
  },
  { additionalProperties: false },
);

/** /api/v2/systems/{id}/…: a system's groups, users and associations; an API key, or the system itself. */
export function jumpcloudV2SystemRoutes(app: FastifyInstance, { core }: JumpCloudDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  api.get('/v2/systems/:id/memberof', { schema: { params: Params, hide: true } }, async (req) =>
    (await core.groups.ofSystem(callerOf(req), req.params.id)).map((g) => jcTraversal('system_group', g.id)),
  );

  api.get('/v2/systems/:id/users', { schema: { params: Params, hide: true } }, async (req) =>
    (await core.users.ofSystem(callerOf(req), req.params.id)).map((u) => ({ ...jcTraversal('user', u.id), user: jcUser(u) })),
  );

  api.get('/v2/systems/:id/associations', { schema: { params: Params, querystring: AssociationsQuery, hide: true } }, async (req) => {
    const id = req.params.id;
    const t = req.query.targets;
    const targets = new Set(t === undefined ? ['user', 'system_group'] : Array.isArray(t) ? t : [t]);
    const caller = callerOf(req);
    const out: Record<string, unknown>[] = [];
    if (targets.has('system_group')) out.push(...(await core.groups.ofSystem(caller, id)).map((g) => jcAssociation('system_group', g.id)));
    if (targets.has('user')) out.push(...(await core.users.ofSystem(caller, id)).map((u) => jcAssociation('user', u.id)));
    return out;
  });

  api.post('/v2/systems/:id/associations', { schema: { params: Params, body: AssociationOp, hide: true } }, async (req, reply) => {
    const id = req.params.id;
    const body = req.body;
    if (body.type === 'system_group') await core.groups.changeMember(callerOf(req), body.id, id, body.op);
    else await core.users.changeBinding(callerOf(req), body.id, id, body.op);
    return reply.status(204).send();
  });
}
