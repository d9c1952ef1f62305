import Type from 'typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TRIGGER_BODY_MAX_BYTES, type TriggerRecord } from '../../../core/commands/index.js';
import { actorOf, type NativeDeps } from '../context.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
const CreateBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64 }), secret: Type.Optional(Type.Boolean({ description: 'Create an HMAC secret so callers can fire the trigger without an API key' })) },
  { additionalProperties: false },
);

const triggerView = (t: TriggerRecord) => ({ id: t.id, name: t.name, has_secret: t.secret !== null, created_at: t.createdAt, created_by: t.createdBy });

/**
 * /v1/triggers: named triggers with optional secrets, and firing them. The
 * fire body is the data whose top-level keys become environment variables;
 * it is read raw so what it holds reaches core exactly as sent.
 */
export function triggerRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const tags = ['triggers'];
  const name = (req: FastifyRequest) => (req.params as { name: string }).name;
  app.get('/triggers', { schema: { tags, summary: 'List triggers' } }, async (req) => ({ items: (await core.triggers.list(actorOf(req))).map(triggerView) }));
  app.post('/triggers', { schema: { tags, summary: 'Create a trigger; its secret is shown only here', body: CreateBody } }, async (req, reply) => {
    const { trigger, secret } = await core.triggers.create(actorOf(req), req.body as { name: string; secret?: boolean });
    return reply.status(201).send({ trigger: triggerView(trigger), secret });
  });
  app.post('/triggers/:name/rotate-secret', { schema: { tags, summary: "Replace a trigger's secret; the new one is shown only here", params: NameParams } }, async (req) => ({
    secret: await core.triggers.rotateSecret(actorOf(req), name(req)),
  }));
  app.delete('/triggers/:name', { schema: { tags, summary: 'Delete a trigger and its secret', params: NameParams } }, async (req, reply) => {
    await core.triggers.remove(actorOf(req), name(req));
    return reply.status(204).send();
  });
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: TRIGGER_BODY_MAX_BYTES }, (_req, body, done) => done(null, body));
    scope.post('/triggers/:name/fire', { schema: { tags, summary: 'Start every command with this trigger; the JSON body becomes their environment', params: NameParams } }, async (req, reply) => {
      const key = req.headers['idempotency-key'];
      const outcome = await core.triggers.fire({
        name: name(req),
        body: typeof req.body === 'string' ? req.body : undefined,
        actor: actorOf(req),
        idempotencyKey: typeof key === 'string' && key !== '' ? key : undefined,
      });
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      return {
        triggered: outcome.triggered,
        jobs: outcome.jobs.map((j) => ({ command_id: j.commandId, job_id: j.jobId })),
        skipped: outcome.skipped.map((s) => ({ command_id: s.commandId, reason: s.reason })),
        replayed: outcome.replayed,
      };
    });
  });
}
