import { backoffDelay, type BackoffOptions } from '../../lib/backoff.js';
import type { Clock } from '../clock.js';
import { Pruner } from '../pruner.js';
import { signTrigger } from '../commands/index.js';
import type { WebhookService } from './service.js';
import type { WebhookSender } from './sender.js';
import type { AttemptOutcome, ClaimedDelivery, DeliveryRecord, WebhookStore } from './store.js';

export interface DeliveryWorkerOptions {
  /** Deliveries in flight at once in this process. */
  concurrency: number;
  /** How often the outbox is read without a wake-up (deliveries queued on other replicas, retries coming due). */
  pollMs: number;
  /** How long an attempt may take, connecting and answering. */
  timeoutMs: number;
  /** The delay before retry n: capped, jittered, exponential (lib/backoff.ts). */
  backoff: BackoffOptions;
  /** `muster/<version>`. */
  userAgent: string;
  /** How long delivered and failed deliveries stay in the log before they are deleted. */
  keepMs: number;
}

/** How an attempt ended, for metrics: delivered, to be retried, or failed for good. */
export type AttemptResult = 'delivered' | 'retry' | 'failed';

/** Told about every attempt; `latencyMs` (created → delivered) only when delivered. */
export type DeliveryObserver = (result: AttemptResult, delivery: DeliveryRecord, latencyMs: number | undefined) => void;

/**
 * Sends the outbox: claims due deliveries (one replica at a time each, under
 * a lease), posts each signed, logs the attempt, and either marks it
 * delivered (a 2xx), schedules a retry with backoff, or fails it once its
 * retry window (24 h by default) is spent. Up to `concurrency` posts are in
 * flight; a slow receiver holds one slot, never the job engine.
 */
export class DeliveryWorker {
  private stopping = true;
  private inFlight = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private woken = false;
  private waiter: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly pruner: Pruner;

  constructor(
    private readonly store: WebhookStore,
    private readonly webhooks: WebhookService,
    private readonly send: WebhookSender,
    private readonly clock: Clock,
    private readonly options: DeliveryWorkerOptions,
    private readonly onError: (err: unknown) => void,
    private readonly observe: DeliveryObserver = () => undefined,
  ) {
    // Hourly at most: the log only needs to stop growing, not to be trimmed to the minute.
    this.pruner = new Pruner(clock, options.keepMs, Math.min(options.keepMs, 3600_000), (before) => store.pruneDeliveries(before), onError);
  }

  start(): void {
    if (!this.stopping) return;
    this.stopping = false;
    this.unsubscribe = this.webhooks.onEnqueued(() => this.poke());
    this.loop = this.run();
    this.pruner.start();
  }

  /** Deletes delivered and failed deliveries older than keepMs, with their attempts. */
  prune(): Promise<number> {
    return this.pruner.prune();
  }

  /** Stops claiming and waits for the posts in flight (each at most `timeoutMs`). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.pruner.stop();
    this.unsubscribe?.();
    this.poke();
    await this.loop;
    await Promise.all([...this.inFlight]);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let claimed: ClaimedDelivery[] = [];
      const room = this.options.concurrency - this.inFlight.size;
      if (room > 0) {
        try {
          const now = this.clock.now();
          const leaseUntil = new Date(now.getTime() + this.options.timeoutMs + 30_000).toISOString();
          claimed = await this.store.claimDue({ limit: room, now: now.toISOString(), leaseUntil });
        } catch (err) {
          this.onError(err);
        }
      }
      for (const c of claimed) {
        const p: Promise<void> = this.attempt(c)
          .catch((err: unknown) => this.onError(err))
          .finally(() => {
            this.inFlight.delete(p);
            this.poke();
          });
        this.inFlight.add(p);
      }
      // A full claim may have left more due: look again at once; otherwise wait for a wake-up, a free slot or the poll.
      if (!this.stopping && (claimed.length === 0 || claimed.length < room || this.inFlight.size >= this.options.concurrency)) await this.idle();
    }
  }

  /** Wakes the loop, or makes its next wait return at once (a wake-up while claiming is not lost). */
  private poke(): void {
    this.woken = true;
    this.waiter?.();
  }

  private idle(): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiter = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, this.options.pollMs);
      this.waiter = done;
    });
  }

  /** One attempt of one claimed delivery, logged with what came back. */
  private async attempt({ delivery, webhook, problem }: ClaimedDelivery): Promise<void> {
    const started = this.clock.now();
    // Gone or disabled: failed now. A secret this server cannot open: a configuration fault, retried as usual.
    const final = problem === undefined && (webhook === undefined || !webhook.enabled);
    const result =
      problem !== undefined || webhook === undefined || !webhook.enabled
        ? { status: null, body: null, error: problem ?? (webhook ? 'the webhook is disabled' : 'the webhook was deleted'), durationMs: 0 }
        : await this.send({
            url: webhook.url,
            headers: this.headers(delivery, webhook.secret, started),
            body: delivery.body,
            timeoutMs: this.options.timeoutMs,
          });
    const now = this.clock.now();
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    const delay = backoffDelay(delivery.attempts - 1, this.options.backoff);
    const gaveUp = final || now.getTime() + delay > Date.parse(delivery.retryUntil);
    const outcome: AttemptOutcome = ok
      ? { state: 'delivered', at: now.toISOString() }
      : gaveUp
        ? { state: 'failed' }
        : { state: 'pending', nextAttemptAt: new Date(now.getTime() + delay).toISOString() };
    await this.store.recordAttempt(
      {
        deliveryId: delivery.id,
        seq: delivery.attempts,
        startedAt: started.toISOString(),
        durationMs: result.durationMs,
        status: result.status,
        responseBody: result.body,
        error: result.error ?? (ok ? null : `the receiver answered ${result.status}, not 2xx`),
      },
      outcome,
    );
    this.observe(ok ? 'delivered' : gaveUp ? 'failed' : 'retry', delivery, ok ? now.getTime() - Date.parse(delivery.createdAt) : undefined);
  }

  /** The headers of one attempt: signed as inbound trigger calls are, `t=<unix>,v1=<HMAC-SHA256 of "<t>.<body>">`. */
  private headers(delivery: DeliveryRecord, secret: string, at: Date): Record<string, string> {
    const t = Math.floor(at.getTime() / 1000);
    return {
      'content-type': 'application/json',
      'user-agent': this.options.userAgent,
      'x-muster-event': delivery.event,
      'x-muster-delivery': delivery.id,
      'x-muster-timestamp': String(t),
      'x-muster-signature': `t=${t},v1=${signTrigger(secret, t, delivery.body)}`,
    };
  }
}
