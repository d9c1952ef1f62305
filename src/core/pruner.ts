import type { Clock } from './clock.js';

/**
 * Deletes what has been kept longer than `keepMs`, every `everyMs`, for a
 * long-lived part that keeps a log (done ingest commands, delivered
 * webhooks). A failed pass is reported and the next one tries again.
 */
export class Pruner {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly keepMs: number,
    private readonly everyMs: number,
    private readonly deleteBefore: (before: string) => Promise<number>,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.prune(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass now: how many were deleted (0 when the pass failed). */
  async prune(): Promise<number> {
    try {
      return await this.deleteBefore(new Date(this.clock.now().getTime() - this.keepMs).toISOString());
    } catch (err) {
      this.onError(err);
      return 0;
    }
  }
}
