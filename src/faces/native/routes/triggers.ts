import type { FastifyInstance } from 'fastify';
import { CreateTriggerBody, Fired, NoContent, SecretRotated, TriggerCreated, TriggerList, TriggerParams, type Trigger } from '../../../api/native/index.js';
import { TRIGGER_BODY_MAX_BYTES, type TriggerRecord } from '../../../core/commands/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { answers } from '../schemas.js';

const triggerView = (t: TriggerRecord): Trigger => ({
  id: t.id,
  name: t.name,
  has_secret: t.secret !== null,
  created_at: t.createdAt,
  created_by: t.createdBy,
});

/**
 * /v1/triggers: named triggers with optional secrets, and firing them. The
 * fire body is the data whose top-level keys become environment variables;
 * it is read raw so what it holds reaches core exactly as sent.
 */
export function triggerRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const tags = ['triggers'];
  const params = TriggerParams;
  api.get('/triggers', { schema: { tags, summary: 'List triggers', response: answers({ 200: TriggerList }) } }, async (req) => ({
    items: (await core.triggers.list(actorOf(req))).map(triggerView),
  }));
  api.post(
    '/triggers',
    { schema: { tags, summary: 'Create a trigger; its secret is shown only here', body: CreateTriggerBody, response: answers({ 201: TriggerCreated }) } },
    async (req, reply) => {
      const { trigger, secret } = await core.triggers.create(actorOf(req), req.body);
      return reply.status(201).send({ trigger: triggerView(trigger), secret });
    },
  );
  api.post(
    '/triggers/:name/rotate-secret',
    { schema: { tags, summary: "Replace a trigger's secret; the new one is shown only here", params, response: answers({ 200: SecretRotated }) } },
    async (req) => ({ secret: await core.triggers.rotateSecret(actorOf(req), req.params.name) }),
  );
  api.delete(
    '/triggers/:name',
    { schema: { tags, summary: 'Delete a trigger and its secret', params, response: answers({ 204: NoContent }) } },
    async (req, reply) => {
      await core.triggers.remove(actorOf(req), req.params.name);
      return reply.status(204).send();
    },
  );
  void app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: TRIGGER_BODY_MAX_BYTES }, (_req, body, done) => done(null, body));
    scope.post(
      '/triggers/:name/fire',
      {
        schema: { tags, summary: 'Start every command with this trigger; the JSON body becomes their environment', params, response: answers({ 200: Fired }) },
      },
      async (req, reply) => {
        const key = req.headers['idempotency-key'];
        const outcome = await core.triggers.fire({
          name: req.params.name,
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
      },
    );
  });
}
