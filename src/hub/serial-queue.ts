/**
 * Runs tasks one after another, and says when more than `bound` wait (and
 * again once at most half of that do), so its owner can push back.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private depth = 0;
  private full = false;

  constructor(
    private readonly bound: number,
    private readonly pressure: (full: boolean) => void,
  ) {}

  /** Queued and running tasks. */
  get size(): number {
    return this.depth;
  }

  /** Chains `task` after the others; a failed task does not stop the next. */
  push(task: () => Promise<void>): Promise<void> {
    this.depth++;
    if (!this.full && this.depth > this.bound) {
      this.full = true;
      this.pressure(true);
    }
    const run = async (): Promise<void> => {
      try {
        await task();
      } finally {
        this.depth--;
        if (this.full && this.depth <= Math.floor(this.bound / 2)) {
          this.full = false;
          this.pressure(false);
        }
      }
    };
    this.tail = this.tail.then(run, run);
    return this.tail;
  }
}
