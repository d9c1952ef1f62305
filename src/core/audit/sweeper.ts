import type { Clock } from '../clock.js';
import type { AuditStore } from './store.js';

export interface RetentionOptions {
  /** Events older than this many days are deleted; 0 keeps them forever. */
  retentionDays: number;
  /** How often a sweep runs. */
  intervalMs: number;
  /** Events deleted per statement at most, so no sweep holds a long lock (SQLite has one writer). */
  batch: number;
  onError?: (err: unknown) => void;
}

const DAY_MS = 86_400_000;

/**
 * Deletes audit events past retention, oldest first, in bounded batches:
 * a first sweep over years of events deletes them a batch per statement
 * (yielding between batches) rather than in one transaction that would stall
 * every other writer. Every replica may run it: each batch deletes whatever
 * is still there.
 */
export class AuditSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(
    private readonly store: Pick<AuditStore, 'deleteOlder'>,
    private readonly clock: Clock,
    private readonly options: RetentionOptions,
  ) {}

  start(): void {
    if (this.options.retentionDays === 0) return;
    this.stopped = false;
    this.timer = setInterval(() => void this.sweepOnce(), this.options.intervalMs);
    this.timer.unref();
    void this.sweepOnce();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One sweep: deletes every event past retention, a batch at a time; answers how many. Overlapping calls share it. */
  sweepOnce(): Promise<number> {
    this.running ??= this.sweep()
      .catch((err: unknown) => {
        this.options.onError?.(err);
        return 0;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<number> {
    if (this.options.retentionDays === 0) return 0;
    const before = new Date(this.clock.now().getTime() - this.options.retentionDays * DAY_MS).toISOString();
    let deleted = 0;
    for (;;) {
      const n = await this.store.deleteOlder(before, this.options.batch);
      deleted += n;
      if (n < this.options.batch || this.stopped) return deleted;
      // Let requests waiting for the database in between.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
