/**
 * Runs tasks one after another, and says when more than `bound` wait (and
 * again once at most half of that do), so its owner can push back. Tasks wait
 * in an array drained by one loop: a message costs its task, not a promise
 * chain link and a wrapper closure as well.
 */
export class SerialQueue {
  private readonly tasks: Array<() => Promise<void>> = [];
  private head = 0;
  private running = false;
  private full = false;

  constructor(
    private readonly bound: number,
    private readonly pressure: (full: boolean) => void,
  ) {}

  /** Queued and running tasks. */
  get size(): number {
    return this.tasks.length - this.head;
  }

  /** Queues `task` after the others; it starts once they have ended. A failed task does not stop the next. */
  push(task: () => Promise<void>): void {
    this.tasks.push(task);
    if (!this.full && this.size > this.bound) {
      this.full = true;
      this.pressure(true);
    }
    if (!this.running) {
      this.running = true;
      void this.drain();
    }
  }

  private async drain(): Promise<void> {
    // Starts after the caller's turn, as a promise chain's first link would.
    await undefined;
    while (this.head < this.tasks.length) {
      const task = this.tasks[this.head]!;
      try {
        await task();
      } catch {
        // The owner's tasks handle their own errors (the registry closes the connection); one that throws only ends itself.
      } finally {
        this.tasks[this.head++] = undefined as never;
        if (this.head === this.tasks.length) {
          this.tasks.length = 0;
          this.head = 0;
        }
        if (this.full && this.size <= Math.floor(this.bound / 2)) {
          this.full = false;
          this.pressure(false);
        }
      }
    }
    this.running = false;
  }
}
