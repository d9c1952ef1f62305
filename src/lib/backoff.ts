/**
 * The one reconnect policy: capped, jittered exponential backoff ("full jitter").
 * attempt 0 → up to `baseMs`, doubling per attempt, never above `maxMs`.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  // Never below a tenth of the ceiling, so a storm of reconnects still spreads out
  // but no attempt spins at 0 ms.
  return Math.round(ceiling / 10 + random() * ceiling * 0.9);
}

/** A stateful helper: `next()` gives the next delay, `reset()` after a success. */
export class Backoff {
  private attempt = 0;
  constructor(private readonly options: BackoffOptions) {}

  next(): number {
    return backoffDelay(this.attempt++, this.options);
  }

  reset(): void {
    this.attempt = 0;
  }
}
