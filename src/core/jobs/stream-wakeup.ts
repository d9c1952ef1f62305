/**
 * Wakes live streams on this replica when runs change here, and tells the
 * other replicas through `relay` when one is set. A hint only: streams also
 * poll, which is how they see a change whose wake-up was lost.
 */
export class StreamWakeup {
  private waiters = new Set<() => void>();
  private relay: (() => void) | undefined;

  /** Passes every local notify on (to the other replicas); their notifies come back through `wakeLocal`. */
  relayTo(relay: () => void): void {
    this.relay = relay;
  }

  notify(): void {
    this.relay?.();
    this.wakeLocal();
  }

  /** Wakes the streams here only (a wake-up from another replica). */
  wakeLocal(): void {
    const waiting = this.waiters;
    this.waiters = new Set();
    for (const wake of waiting) wake();
  }

  /** Resolves on the next notify, after `ms`, or when `signal` aborts — whichever comes first. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
