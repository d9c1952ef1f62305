import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { invalid } from '../../../core/errors.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { adminOf, type JumpCloudDeps } from '../context.js';
import { jcAssociation, jcGroup } from '../inventory-views.js';
import { callerOf } from '../system-caller.js';

const Params = Type.Object({ id: Type.String({ maxLength: 100 }) });
const GroupBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), description: Type.Optional(Type.String({ maxLength: 4096 })) },
  { additionalProperties: false },
);
const GroupPatch = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), description: Type.Optional(Type.String({ maxLength: 4096 })) },
  { additionalProperties: false },
);
/** v2 membership change: `{"op": "add"|"remove", "type": "system", "id": …}`. */
const MemberOp = Type.Object(
  {
    op: Type.Union([Type.Literal('add'), Type.Literal('remove')]),
    type: Type.Literal('system'),
    id: Type.String({ minLength: 1, maxLength: 64 }),
    attributes: Type.Optional(Type.Union([Type.Object({}), Type.Null()])),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
    skip: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
    filter: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** `filter=name:eq:NAME`, the one filter scripts use to find a group. */
function nameFilter(filter: string | undefined): string | undefined {
  if (filter === undefined) return undefined;
  const m = /^name:eq:(.+)$/s.exec(filter);
  if (!m) throw invalid('filter', 'supported: name:eq:NAME');
  return m[1];
}

/** /api/v2/systemgroups: CRUD and members (API key); a system may add or remove itself. */
export function jumpcloudSystemGroupRoutes(app: FastifyInstance, { core }: JumpCloudDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  api.get('/v2/systemgroups', { schema: { querystring: ListQuery, hide: true } }, async (req) => {
    const q = req.query;
    const actor = adminOf(req);
    const name = nameFilter(q.filter);
    const groups =
      name === undefined
        ? await core.groups.list(actor)
        : await core.groups.get(actor, name).then(
            (g) => [g],
            () => [],
          );
    const skip = Number(q.skip ?? 0);
    return groups.slice(skip, skip + Number(q.limit ?? 100)).map(jcGroup);
  });

  api.post('/v2/systemgroups', { schema: { body: GroupBody, hide: true } }, async (req, reply) =>
    reply.status(201).send(jcGroup(await core.groups.create(adminOf(req), req.body))),
  );

  api.get('/v2/systemgroups/:id', { schema: { params: Params, hide: true } }, async (req) => jcGroup(await core.groups.get(adminOf(req), req.params.id)));

  api.put('/v2/systemgroups/:id', { schema: { params: Params, body: GroupPatch, hide: true } }, async (req) =>
    jcGroup(await core.groups.update(adminOf(req), req.params.id, req.body)),
  );

  api.delete('/v2/systemgroups/:id', { schema: { params: Params, hide: true } }, async (req, reply) => {
    await core.groups.remove(adminOf(req), req.params.id);
    return reply.status(204).send();
  });

  api.get('/v2/systemgroups/:id/members', { schema: { params: Params, hide: true } }, async (req) =>
    (await core.groups.members(adminOf(req), req.params.id)).map((id) => jcAssociation('system', id)),
  );

  // The second is the System Context reference's short form.
  for (const url of ['/v2/systemgroups/:id/members', '/v2/systemgroups/:id']) {
    api.post(url, { schema: { params: Params, body: MemberOp, hide: true } }, async (req, reply) => {
      await core.groups.changeMember(callerOf(req), req.params.id, req.body.id, req.body.op);
      return reply.status(204).send();
    });
  }
}
