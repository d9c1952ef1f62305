import type { Delivery } from '../core/jobs/index.js';

/**
 * Coalesces "these systems may have runs" hints into few claims. A launch to
 * 10,000 systems used to start 10,000 claim transactions (one per system, one
 * fsync each on SQLite: ~29 s on the bench machine before the launch even
 * answered); here the hints of one event-loop turn become one claim per
 * CLAIM_BATCH systems, and hints arriving while a claim runs wait for the next.
 */
const CLAIM_BATCH = 1000;

export interface DeliveryQueueDeps {
  /** The systems of `ids` that can take a delivery now (connected here, hello received). */
  ready: (ids: string[]) => string[];
  claim: (ids: string[]) => Promise<Map<string, Delivery[]>>;
  send: (systemId: string, deliveries: Delivery[]) => void;
  onError: (err: unknown) => void;
}

export class DeliveryQueue {
  private wanted = new Set<string>();
  private draining = false;

  constructor(private readonly deps: DeliveryQueueDeps) {}

  /** Asks for a claim for these systems soon (hints only: the claim re-reads the database). */
  request(systemIds: Iterable<string>): void {
    for (const id of systemIds) this.wanted.add(id);
    if (this.draining || this.wanted.size === 0) return;
    this.draining = true;
    // A microtask, not setImmediate: a launch's claim then takes the database
    // before the launch's own response is built (listing 10,000 runs took
    // ~0.5 s), so agents start working sooner. Hints given in the same
    // synchronous pass still coalesce.
    queueMicrotask(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.wanted.size > 0) {
        const taken: string[] = [];
        for (const id of this.wanted) {
          if (taken.length === CLAIM_BATCH) break;
          taken.push(id);
        }
        for (const id of taken) this.wanted.delete(id);
        const ids = this.deps.ready(taken);
        if (ids.length === 0) continue;
        try {
          const claimed = await this.deps.claim(ids);
          for (const [systemId, deliveries] of claimed) this.deps.send(systemId, deliveries);
        } catch (err) {
          // A failed claim changed nothing; the 5 s poll asks again.
          this.deps.onError(err);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
