import type { FastifyInstance } from 'fastify';
import {
  CreateWebhookBody,
  DeliveryParams,
  IdParams,
  NoContent,
  SecretRotated,
  UpdateWebhookBody,
  Webhook,
  WebhookCreated,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookDeliveryQuery,
  WebhookList,
} from '../../../api/native/index.js';
import type { AttemptRecord, DeliveryRecord, WebhookRecord } from '../../../core/webhooks/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { answers } from '../schemas.js';

const webhookView = (w: WebhookRecord): Webhook => ({
  id: w.id,
  url: w.url,
  events: w.events,
  enabled: w.enabled,
  description: w.description,
  created_at: w.createdAt,
  created_by: w.createdBy,
  updated_at: w.updatedAt,
});

const deliveryView = (d: DeliveryRecord & { attemptLog?: AttemptRecord[] }): WebhookDelivery => ({
  id: d.id,
  webhook_id: d.webhookId,
  event: d.event,
  state: d.state,
  attempts: d.attempts,
  created_at: d.createdAt,
  next_attempt_at: d.state === 'pending' || d.state === 'sending' ? d.nextAttemptAt : null,
  retry_until: d.retryUntil,
  delivered_at: d.deliveredAt,
  last_status: d.lastStatus,
  last_error: d.lastError,
  body: d.body,
  attempt_log: (d.attemptLog ?? []).map((a) => ({
    seq: a.seq,
    started_at: a.startedAt,
    duration_ms: a.durationMs,
    status: a.status,
    response_body: a.responseBody,
    error: a.error,
  })),
});

/** /v1/webhooks: outbound webhook subscriptions (admin), test pings, the delivery log and redelivery. */
export function webhookRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const tags = ['webhooks'];
  const params = IdParams;
  api.get('/webhooks', { schema: { tags, summary: 'List webhooks', response: answers({ 200: WebhookList }) } }, async (req) => ({
    items: (await core.webhooks.list(actorOf(req))).map(webhookView),
  }));
  api.post(
    '/webhooks',
    {
      schema: { tags, summary: 'Create a webhook; its signing secret is shown only here', body: CreateWebhookBody, response: answers({ 201: WebhookCreated }) },
    },
    async (req, reply) => {
      const webhook = await core.webhooks.create(actorOf(req), req.body);
      return reply.status(201).send({ webhook: webhookView(webhook), secret: webhook.secret });
    },
  );
  api.get('/webhooks/:id', { schema: { tags, summary: 'Show a webhook', params, response: answers({ 200: Webhook }) } }, async (req) =>
    webhookView(await core.webhooks.get(actorOf(req), req.params.id)),
  );
  api.patch(
    '/webhooks/:id',
    {
      schema: {
        tags,
        summary: "Change a webhook's URL, events, enabled flag or description",
        params,
        body: UpdateWebhookBody,
        response: answers({ 200: Webhook }),
      },
    },
    async (req) => webhookView(await core.webhooks.update(actorOf(req), req.params.id, req.body)),
  );
  api.delete(
    '/webhooks/:id',
    { schema: { tags, summary: 'Delete a webhook with its pending deliveries and log', params, response: answers({ 204: NoContent }) } },
    async (req, reply) => {
      await core.webhooks.remove(actorOf(req), req.params.id);
      return reply.status(204).send();
    },
  );
  api.post(
    '/webhooks/:id/rotate-secret',
    { schema: { tags, summary: "Replace a webhook's signing secret; the new one is shown only here", params, response: answers({ 200: SecretRotated }) } },
    async (req) => ({ secret: await core.webhooks.rotateSecret(actorOf(req), req.params.id) }),
  );
  api.post(
    '/webhooks/:id/ping',
    { schema: { tags, summary: 'Queue a ping delivery to this webhook', params, response: answers({ 202: WebhookDelivery }) } },
    async (req, reply) => reply.status(202).send(deliveryView(await core.webhooks.ping(actorOf(req), req.params.id))),
  );
  api.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        summary: "A webhook's deliveries, newest first, each with its attempts",
        params,
        querystring: WebhookDeliveryQuery,
        response: answers({ 200: WebhookDeliveryList }),
      },
    },
    async (req) => {
      const q = req.query;
      const page = await core.webhooks.deliveries(actorOf(req), req.params.id, {
        limit: q.limit === undefined ? undefined : Number(q.limit),
        cursor: q.cursor,
      });
      return { items: page.items.map(deliveryView), next_cursor: page.nextCursor };
    },
  );
  api.post(
    '/webhooks/:id/deliveries/:delivery/redeliver',
    { schema: { tags, summary: 'Send a delivery again (same id and body), now', params: DeliveryParams, response: answers({ 202: WebhookDelivery }) } },
    async (req, reply) => reply.status(202).send(deliveryView(await core.webhooks.redeliver(actorOf(req), req.params.id, req.params.delivery))),
  );
}
