import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxProvider } from '../../type-provider.js';
import { adminOf, type JumpCloudDeps } from '../context.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const AssociationBody = Type.Object(
  {
    op: Type.Union([Type.Literal('add'), Type.Literal('remove')]),
    type: Type.Union([Type.Literal('system'), Type.Literal('system_group')]),
    id: Type.String({ minLength: 1, maxLength: 128 }),
    attributes: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
const TargetQuery = Type.Object({ targets: Type.Optional(Type.String()) }, { additionalProperties: true });

const edge = (type: 'system' | 'system_group' | 'command', id: string) => ({ attributes: null, to: { attributes: null, id, type } });

/** JumpCloud v2 command graph: `/api/v2/commands/{id}/associations`, `/systems`, `/systemgroups`. */
export function commandAssociationRoutes(app: FastifyInstance, { core }: JumpCloudDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  api.get('/v2/commands/:id/associations', { schema: { params: IdParams, querystring: TargetQuery } }, async (req) => {
    const { systemIds, groupIds } = await core.commands.bindings(adminOf(req), req.params.id);
    const want = req.query.targets;
    return [
      ...(want === undefined || want === 'system' ? systemIds.map((id) => edge('system', id)) : []),
      ...(want === undefined || want === 'system_group' ? groupIds.map((id) => edge('system_group', id)) : []),
    ];
  });

  api.post('/v2/commands/:id/associations', { schema: { params: IdParams, body: AssociationBody } }, async (req, reply) => {
    const body = req.body;
    await core.commands.bind(adminOf(req), req.params.id, { op: body.op, type: body.type === 'system' ? 'system' : 'group', id: body.id });
    return reply.status(204).send();
  });

  api.get('/v2/commands/:id/systems', { schema: { params: IdParams } }, async (req) => {
    const commandId = req.params.id;
    const bound = await core.commands.boundSystems(adminOf(req), commandId);
    return bound.map((b) => ({
      id: b.systemId,
      type: 'system',
      compiledAttributes: null,
      paths: [b.groupId === null ? [edge('system', b.systemId)] : [edge('system_group', b.groupId), edge('system', b.systemId)]],
    }));
  });

  api.get('/v2/commands/:id/systemgroups', { schema: { params: IdParams } }, async (req) => {
    const { groupIds } = await core.commands.bindings(adminOf(req), req.params.id);
    return groupIds.map((id) => ({ id, type: 'system_group', compiledAttributes: null, paths: [[edge('system_group', id)]] }));
  });
}
