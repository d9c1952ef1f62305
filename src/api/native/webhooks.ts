import Type, { type Static } from 'typebox';
import { Instant, Items, Nullable } from './common.js';

/** The events a webhook can subscribe to (`ping` is sent by hand). */
export const WEBHOOK_EVENT_NAMES = ['job.completed', 'run.failed', 'system.enrolled', 'system.deleted', 'ingest.discarded'] as const;

const Url = Type.String({ maxLength: 2048, description: 'http or https URL the events are POSTed to' });
const Events = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20, description: `Some of ${WEBHOOK_EVENT_NAMES.join(', ')}` });
const Description = Type.String({ maxLength: 500 });

export const Webhook = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  description: Type.String(),
  created_at: Instant,
  created_by: Type.String(),
  updated_at: Instant,
});
export type Webhook = Static<typeof Webhook>;
export const WebhookList = Items(Webhook);
export type WebhookList = Static<typeof WebhookList>;

/** POST /v1/webhooks. */
export const CreateWebhookBody = Type.Object(
  { url: Url, events: Events, enabled: Type.Optional(Type.Boolean({ default: true })), description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

/** PATCH /v1/webhooks/{id}: the fields given change. */
export const UpdateWebhookBody = Type.Object(
  { url: Type.Optional(Url), events: Type.Optional(Events), enabled: Type.Optional(Type.Boolean()), description: Type.Optional(Description) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateWebhookBody = Static<typeof UpdateWebhookBody>;

/** A new webhook and its signing secret, shown only here. */
export const WebhookCreated = Type.Object({ webhook: Webhook, secret: Type.String() });
export type WebhookCreated = Static<typeof WebhookCreated>;

export const DeliveryParams = Type.Object({ id: Type.String({ maxLength: 64 }), delivery: Type.String({ maxLength: 64 }) });

/** One attempt to send a delivery. */
export const DeliveryAttempt = Type.Object({
  seq: Type.Integer({ description: '1 for the first attempt' }),
  started_at: Instant,
  duration_ms: Type.Integer(),
  status: Nullable(Type.Integer(), { description: 'The HTTP status; null when no answer came' }),
  response_body: Nullable(Type.String(), { description: 'The first 1 KiB of the answer' }),
  error: Nullable(Type.String()),
});
export type DeliveryAttempt = Static<typeof DeliveryAttempt>;

export const WebhookDelivery = Type.Object({
  id: Type.String({ description: 'Also the body\'s "id" and the X-Muster-Delivery header' }),
  webhook_id: Type.String(),
  event: Type.String(),
  state: Type.Union([Type.Literal('pending'), Type.Literal('sending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  created_at: Instant,
  next_attempt_at: Nullable(Instant, { description: 'When the next attempt is due; null once delivered or failed' }),
  retry_until: Instant,
  delivered_at: Nullable(Instant),
  last_status: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  body: Type.String({ description: 'The JSON text every attempt sends' }),
  attempt_log: Type.Array(DeliveryAttempt),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

/** GET /v1/webhooks/{id}/deliveries: newest first; pass `next_cursor` back as `cursor` for the next page. */
export const WebhookDeliveryList = Type.Object({ items: Type.Array(WebhookDelivery), next_cursor: Nullable(Type.String()) });
export type WebhookDeliveryList = Static<typeof WebhookDeliveryList>;

export const WebhookDeliveryQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: '1–200; 50 by default' })),
    cursor: Type.Optional(Type.String({ maxLength: 64, description: "The previous page's next_cursor" })),
  },
  { additionalProperties: false },
);
