/**
 * Commits items in groups, so "accepted" still means "on disk" at one fsync
 * per group instead of one per item. A group starts once as many items wait as
 * went into the last one (clients that got their answers send again at about
 * the same time), or after `windowMs`, whichever comes first; a lone caller
 * waits at most that long.
 */
export class GroupCommit<T> {
  private waiting: Array<{ item: T; resolve: () => void; reject: (err: unknown) => void }> = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private target = 1;

  constructor(
    private readonly commit: (items: T[]) => Promise<void>,
    private readonly maxGroup = 500,
    private readonly windowMs = 2,
  ) {}

  /** Resolves once `item` is committed; rejects with the commit's error. */
  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.running) return;
      if (this.waiting.length >= this.target) this.start();
      else this.timer ??= setTimeout(() => this.start(), this.windowMs);
    });
  }

  private start(): void {
    if (this.running) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.running = true;
    // On the next turn of the event loop, so every request read in this one joins.
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      const group = this.waiting.splice(0, this.maxGroup);
      this.target = Math.max(1, group.length);
      try {
        await this.commit(group.map((g) => g.item));
        for (const g of group) g.resolve();
      } catch (err) {
        for (const g of group) g.reject(err);
      }
    } finally {
      this.running = false;
      if (this.waiting.length >= this.target) this.start();
      else if (this.waiting.length > 0) this.timer ??= setTimeout(() => this.start(), this.windowMs);
    }
  }
}
