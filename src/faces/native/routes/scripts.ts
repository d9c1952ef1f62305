import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { ScriptInput, ScriptRecord } from '../../../core/scripts/index.js';
import { actorOf, type NativeDeps } from '../context.js';
import { IdParams, Shell } from '../schemas.js';

const Targets = Type.Object(
  {
    system_ids: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 10_000 })),
    group_ids: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 10_000 })),
    selector: Type.Optional(Type.Union([Type.String({ maxLength: 4096, description: 'e.g. tag:web and not hostname:canary' }), Type.Null()])),
  },
  { additionalProperties: false, description: 'Where the script runs when a launch names no targets' },
);

/** No `default`s here: on PATCH a missing field means "keep", and core applies the defaults on create. */
const fields = {
  name: Type.String({ minLength: 1, maxLength: 100, description: 'Unique within the organization' }),
  content: Type.String({ minLength: 1, description: 'The script, at most the server’s script size limit (1 MiB by default)' }),
  shell: Shell,
  run_as: Type.Union([Type.String({ maxLength: 32 }), Type.Null()], { description: 'A local user name, or null for the agent’s user' }),
  timeout_s: Type.Integer({ minimum: 1, maximum: 86_400, description: 'Default 120' }),
  ttl_s: Type.Integer({ minimum: 1, maximum: 604_800, description: 'How long a run waits for an offline system; default 3600' }),
  default_targets: Targets,
};

const CreateBody = Type.Object(
  {
    name: fields.name,
    content: fields.content,
    shell: Type.Optional(fields.shell),
    run_as: Type.Optional(fields.run_as),
    timeout_s: Type.Optional(fields.timeout_s),
    ttl_s: Type.Optional(fields.ttl_s),
    default_targets: Type.Optional(fields.default_targets),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Partial(Type.Object(fields), { additionalProperties: false });

/** Scripts are addressed by id or by name, and names may be up to 100 characters. */
const IdOrNameParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

/** A script in the native API's snake_case shape. */
export function scriptView(s: ScriptRecord) {
  return {
    id: s.id, name: s.name, content: s.content, shell: s.shell, run_as: s.runAs, timeout_s: s.timeoutS, ttl_s: s.ttlS,
    default_targets: { system_ids: s.defaultTargets.systemIds, group_ids: s.defaultTargets.groupIds, selector: s.defaultTargets.selector },
    created_at: s.createdAt, updated_at: s.updatedAt, created_by: s.createdBy,
  };
}

/** /v1/scripts: saved scripts; operators write, viewers read. */
export function scriptRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  app.get('/scripts', { schema: { tags: ['scripts'], summary: 'List saved scripts' } }, async (req) => ({
    items: (await core.scripts.list(actorOf(req))).map(scriptView),
  }));

  app.post('/scripts', { schema: { tags: ['scripts'], summary: 'Save a script', body: CreateBody } }, async (req, reply) => {
    const script = await core.scripts.create(actorOf(req), req.body as ScriptInput);
    return reply.status(201).send(scriptView(script));
  });

  app.get('/scripts/:id', { schema: { tags: ['scripts'], summary: 'A saved script, by id or name', params: IdOrNameParams } }, async (req) =>
    scriptView(await core.scripts.get(actorOf(req), (req.params as { id: string }).id)),
  );

  app.patch('/scripts/:id', { schema: { tags: ['scripts'], summary: 'Change a saved script; fields left out keep their values', params: IdParams, body: UpdateBody } }, async (req) =>
    scriptView(await core.scripts.update(actorOf(req), (req.params as { id: string }).id, req.body as ScriptInput)),
  );

  app.delete('/scripts/:id', { schema: { tags: ['scripts'], summary: 'Delete a saved script', params: IdParams } }, async (req, reply) => {
    await core.scripts.remove(actorOf(req), (req.params as { id: string }).id);
    return reply.status(204).send();
  });
}
