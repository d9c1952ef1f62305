/**
 * The events a webhook can subscribe to. `ping` is sent only by hand
 * (POST /v1/webhooks/{id}/ping), to every webhook asked, whatever its events.
 */
export const WEBHOOK_EVENTS = ['job.completed', 'run.failed', 'system.enrolled', 'system.deleted', 'ingest.discarded', 'ping'] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];

/** The run states a `run.failed` event reports: every ending but success and cancellation. */
export const FAILED_RUN_STATES = ['failed', 'timed_out', 'lost', 'undeliverable'] as const;

/** Something that happened in an organization, before it is addressed to its subscribers. */
export interface WebhookEvent {
  organizationId: string;
  event: WebhookEventName;
  occurredAt: string;
  data: Record<string, unknown>;
}

/** The JSON body of a delivery: the same on every attempt, `id` for the receiver's idempotency. */
export function deliveryBody(id: string, e: WebhookEvent): string {
  return JSON.stringify({ id, event: e.event, occurred_at: e.occurredAt, organization_id: e.organizationId, data: e.data });
}
