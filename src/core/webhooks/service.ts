import { randomBytes } from 'node:crypto';
import { requireRole, type Actor } from '../access/index.js';
import type { AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { invalid, MusterError, notFound } from '../errors.js';
import { isId, newId, uuidV7 } from '../ids.js';
import { deliveryBody, type WebhookEvent } from './events.js';
import type { AttemptRecord, DeliveryRecord, WebhookRecord, WebhookStore } from './store.js';
import { checkDescription, checkEnabled, checkEvents, checkUrl } from './validate.js';

export interface WebhookOptions {
  /** Subscriptions an organization may have. */
  maxPerOrganization: number;
  /** How long a delivery is retried before it is failed. */
  retryWindowMs: number;
  /** Whether URLs may name loopback and private addresses (self-hosted receivers often live there). */
  allowPrivateAddresses: boolean;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = { maxPerOrganization: 25, retryWindowMs: 24 * 3600 * 1000, allowPrivateAddresses: true };

/** A page of a webhook's delivery log. */
export interface DeliveryPage {
  items: Array<DeliveryRecord & { attemptLog: AttemptRecord[] }>;
  nextCursor: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Outbound webhooks: subscriptions (admin only: their URLs and secrets reach
 * other services), the outbox events are addressed into, and the delivery
 * log. Sending is the DeliveryWorker's; this only writes what is to be sent.
 */
export class WebhookService {
  private readonly enqueuedListeners = new Set<() => void>();

  constructor(
    private readonly store: WebhookStore,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
    private readonly options: WebhookOptions = DEFAULT_WEBHOOK_OPTIONS,
  ) {}

  /** Registers a listener for new outbox rows (the local worker wakes at once; other replicas poll). */
  onEnqueued(listener: () => void): () => void {
    this.enqueuedListeners.add(listener);
    return () => this.enqueuedListeners.delete(listener);
  }

  /** Creates a subscription with a new signing secret, returned only here. */
  async create(actor: Actor, input: { url?: unknown; events?: unknown; enabled?: unknown; description?: unknown }): Promise<WebhookRecord> {
    requireRole(actor, 'admin');
    const now = this.clock.now().toISOString();
    const webhook: WebhookRecord = {
      id: newId(),
      organizationId: actor.organizationId,
      url: checkUrl(input.url, this.options.allowPrivateAddresses),
      events: checkEvents(input.events),
      enabled: checkEnabled(input.enabled),
      description: checkDescription(input.description),
      secret: newSecret(),
      createdAt: now,
      createdBy: actor.label,
      updatedAt: now,
    };
    if ((await this.store.countWebhooks(actor.organizationId)) >= this.options.maxPerOrganization)
      throw new MusterError(
        'INVALID_ARGUMENT',
        `an organization may have at most ${this.options.maxPerOrganization} webhooks (webhook_max_per_organization); delete one first`,
      );
    await this.store.insertWebhook(webhook);
    await this.record(actor, 'webhook.create', webhook.id, { url: webhook.url, events: webhook.events });
    return webhook;
  }

  /** The organization's webhooks, oldest first. */
  async list(actor: Actor): Promise<WebhookRecord[]> {
    requireRole(actor, 'admin');
    return this.store.listWebhooks(actor.organizationId);
  }

  /** One webhook; NOT_FOUND when it is not this organization's. */
  async get(actor: Actor, id: string): Promise<WebhookRecord> {
    requireRole(actor, 'admin');
    const webhook = isId(id) ? await this.store.getWebhook(actor.organizationId, id) : undefined;
    if (!webhook) throw notFound('webhook', id);
    return webhook;
  }

  /** Changes the fields given (url, events, enabled, description). */
  async update(actor: Actor, id: string, input: { url?: unknown; events?: unknown; enabled?: unknown; description?: unknown }): Promise<WebhookRecord> {
    const current = await this.get(actor, id);
    const next: WebhookRecord = {
      ...current,
      ...(input.url !== undefined ? { url: checkUrl(input.url, this.options.allowPrivateAddresses) } : {}),
      ...(input.events !== undefined ? { events: checkEvents(input.events) } : {}),
      ...(input.enabled !== undefined ? { enabled: checkEnabled(input.enabled) } : {}),
      ...(input.description !== undefined ? { description: checkDescription(input.description) } : {}),
      updatedAt: this.clock.now().toISOString(),
    };
    if (!(await this.store.updateWebhook(next))) throw notFound('webhook', id);
    await this.record(actor, 'webhook.update', id, { url: next.url, events: next.events, enabled: next.enabled });
    return next;
  }

  /** Deletes a webhook with its outbox rows and log: nothing more is sent to it. */
  async remove(actor: Actor, id: string): Promise<void> {
    await this.get(actor, id);
    if (!(await this.store.deleteWebhook(actor.organizationId, id))) throw notFound('webhook', id);
    await this.record(actor, 'webhook.delete', id);
  }

  /** Replaces the signing secret; the new one is returned only here and signs every later attempt. */
  async rotateSecret(actor: Actor, id: string): Promise<string> {
    const current = await this.get(actor, id);
    const secret = newSecret();
    if (!(await this.store.updateWebhook({ ...current, secret, updatedAt: this.clock.now().toISOString() }))) throw notFound('webhook', id);
    await this.record(actor, 'webhook.rotate_secret', id);
    return secret;
  }

  /** Queues a `ping` to this webhook, whatever its events; CONFLICT when it is disabled. */
  async ping(actor: Actor, id: string): Promise<DeliveryRecord> {
    const webhook = await this.get(actor, id);
    if (!webhook.enabled) throw new MusterError('CONFLICT', `webhook ${id} is disabled: enable it to send a ping`);
    const now = this.clock.now();
    const delivery = this.delivery(
      webhook,
      { organizationId: actor.organizationId, event: 'ping', occurredAt: now.toISOString(), data: { webhook_id: id } },
      now,
    );
    await this.store.insertDeliveries([delivery]);
    await this.record(actor, 'webhook.ping', id, { delivery: delivery.id });
    this.notify();
    return delivery;
  }

  /** A page of the webhook's deliveries, newest first, each with its attempts. */
  async deliveries(actor: Actor, id: string, query: { limit?: number | undefined; cursor?: string | undefined }): Promise<DeliveryPage> {
    await this.get(actor, id);
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalid('limit', 'must be 1 to 200');
    if (query.cursor !== undefined && !UUID.test(query.cursor)) throw invalid('cursor', "must be a page's next_cursor");
    const items = await this.store.listDeliveries(actor.organizationId, id, limit + 1, query.cursor);
    const page = items.slice(0, limit);
    return { items: page, nextCursor: items.length > limit ? page[page.length - 1]!.id : null };
  }

  /** Sends a delivery again, with the same id and body and a new retry window; CONFLICT while it is being sent. */
  async redeliver(actor: Actor, id: string, deliveryId: string): Promise<DeliveryRecord> {
    await this.get(actor, id);
    const delivery = UUID.test(deliveryId) ? await this.store.getDelivery(actor.organizationId, id, deliveryId) : undefined;
    if (!delivery) throw notFound('delivery', deliveryId);
    const now = this.clock.now();
    const retryUntil = new Date(now.getTime() + this.options.retryWindowMs).toISOString();
    if (!(await this.store.requeueDelivery(deliveryId, now.toISOString(), retryUntil)))
      throw new MusterError('CONFLICT', `delivery ${deliveryId} is being sent right now; try again once this attempt ends`);
    await this.record(actor, 'webhook.redeliver', id, { delivery: deliveryId });
    this.notify();
    return { ...delivery, state: 'pending', nextAttemptAt: now.toISOString(), retryUntil };
  }

  /**
   * Addresses events to every enabled webhook of their organization that
   * subscribes to them and writes the deliveries to the outbox, in one
   * transaction. Returns how many deliveries it wrote.
   */
  async publish(events: readonly WebhookEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const hooks = await this.store.enabledWebhooks([...new Set(events.map((e) => e.organizationId))]);
    if (hooks.length === 0) return 0;
    const now = this.clock.now();
    const deliveries = events.flatMap((e) =>
      hooks.filter((h) => h.organizationId === e.organizationId && h.events.includes(e.event)).map((h) => this.delivery(h, e, now)),
    );
    if (deliveries.length === 0) return 0;
    await this.store.insertDeliveries(deliveries);
    this.notify();
    return deliveries.length;
  }

  /** The organizations among these that have an enabled webhook for `event` (so costly event data is read only for them). */
  async subscribed(organizationIds: string[], event: WebhookEvent['event']): Promise<Set<string>> {
    if (organizationIds.length === 0) return new Set();
    const hooks = await this.store.enabledWebhooks([...new Set(organizationIds)]);
    return new Set(hooks.filter((h) => h.events.includes(event)).map((h) => h.organizationId));
  }

  private delivery(webhook: WebhookRecord, e: WebhookEvent, now: Date): DeliveryRecord {
    const id = uuidV7(now.getTime());
    return {
      id,
      webhookId: webhook.id,
      organizationId: webhook.organizationId,
      event: e.event,
      body: deliveryBody(id, e),
      state: 'pending',
      attempts: 0,
      createdAt: now.toISOString(),
      nextAttemptAt: now.toISOString(),
      retryUntil: new Date(now.getTime() + this.options.retryWindowMs).toISOString(),
      deliveredAt: null,
      lastStatus: null,
      lastError: null,
    };
  }

  private notify(): void {
    for (const l of [...this.enqueuedListeners]) l();
  }

  private async record(actor: Actor, action: string, id: string, details?: Record<string, unknown>): Promise<void> {
    await this.audit.record(
      { organizationId: actor.organizationId, actor: actor.label, action, targetType: 'webhook', targetId: id, ...(details ? { details } : {}) },
      this.clock.now(),
    );
  }
}

function newSecret(): string {
  return `mws_${randomBytes(24).toString('hex')}`;
}
