import type { WebhookEventName } from './events.js';

/** One organization's subscription to some events. */
export interface WebhookRecord {
  id: string;
  organizationId: string;
  url: string;
  events: WebhookEventName[];
  enabled: boolean;
  description: string;
  /** The HMAC-SHA256 signing secret, in plain text (the store seals it at rest). */
  secret: string;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
}

/** Where a delivery is: waiting (for its first attempt or a retry), being sent, or done one way or the other. */
export type DeliveryState = 'pending' | 'sending' | 'delivered' | 'failed';

/** One event for one subscription, in the outbox: the body is frozen when the event happens. */
export interface DeliveryRecord {
  id: string;
  webhookId: string;
  organizationId: string;
  event: WebhookEventName;
  /** The exact JSON text posted (every attempt sends the same bytes). */
  body: string;
  state: DeliveryState;
  attempts: number;
  createdAt: string;
  nextAttemptAt: string;
  /** Retries stop at this instant; the delivery is then failed. */
  retryUntil: string;
  deliveredAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
}

/** What one attempt got back. */
export interface AttemptRecord {
  deliveryId: string;
  /** 1 for the first attempt. */
  seq: number;
  startedAt: string;
  durationMs: number;
  /** The HTTP status, or null when no answer came (refused, timed out). */
  status: number | null;
  /** The start of the answer's body. */
  responseBody: string | null;
  error: string | null;
}

/**
 * A delivery claimed for sending, with what sending needs from its webhook
 * (absent: the webhook is gone), or why that could not be read (its secret
 * is sealed with a key this server lacks): that attempt fails and is retried.
 */
export interface ClaimedDelivery {
  delivery: DeliveryRecord;
  webhook: Pick<WebhookRecord, 'url' | 'secret' | 'enabled'> | undefined;
  problem?: string;
}

/** How an attempt leaves its delivery. */
export type AttemptOutcome = { state: 'delivered'; at: string } | { state: 'pending'; nextAttemptAt: string } | { state: 'failed' };

/** Storage of webhooks, their outbox and their delivery log. */
export interface WebhookStore {
  insertWebhook(webhook: WebhookRecord): Promise<void>;
  countWebhooks(organizationId: string): Promise<number>;
  listWebhooks(organizationId: string): Promise<WebhookRecord[]>;
  getWebhook(organizationId: string, id: string): Promise<WebhookRecord | undefined>;
  /** Replaces the mutable fields; false when there is no such webhook. */
  updateWebhook(webhook: WebhookRecord): Promise<boolean>;
  /** Deletes the webhook with its deliveries and their attempts; false when there was none. */
  deleteWebhook(organizationId: string, id: string): Promise<boolean>;
  /** The enabled webhooks of these organizations. */
  enabledWebhooks(organizationIds: string[]): Promise<WebhookRecord[]>;
  /** Writes new deliveries to the outbox, in one transaction. */
  insertDeliveries(deliveries: DeliveryRecord[]): Promise<void>;
  /**
   * Claims due deliveries (pending and due, or sending with an expired lease):
   * each is marked sending until `leaseUntil` and its attempt counted, in one
   * transaction that skips rows another replica holds.
   */
  claimDue(request: { limit: number; now: string; leaseUntil: string }): Promise<ClaimedDelivery[]>;
  /** Logs an attempt and moves its delivery on, only while it is still `sending` with this attempt's count. */
  recordAttempt(attempt: AttemptRecord, outcome: AttemptOutcome): Promise<void>;
  /** A webhook's deliveries, newest first, before the `before` id; with their attempts. */
  listDeliveries(organizationId: string, webhookId: string, limit: number, before?: string): Promise<Array<DeliveryRecord & { attemptLog: AttemptRecord[] }>>;
  getDelivery(organizationId: string, webhookId: string, id: string): Promise<DeliveryRecord | undefined>;
  /** Deletes delivered and failed deliveries (with their attempts) last due before `before`; returns how many. */
  pruneDeliveries(before: string): Promise<number>;
  /** Makes a delivery due now with a new retry window, unless it is being sent; false when it is. */
  requeueDelivery(id: string, now: string, retryUntil: string): Promise<boolean>;
}
