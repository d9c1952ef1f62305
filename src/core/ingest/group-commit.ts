/**
 * Commits items in groups: while one commit runs, new items wait and then go
 * together in the next. Each caller's promise settles when its own group is
 * committed, so "accepted" still means "on disk", at one fsync per group
 * instead of one per item.
 */
export class GroupCommit<T> {
  private waiting: Array<{ item: T; resolve: () => void; reject: (err: unknown) => void }> = [];
  private running = false;

  constructor(
    private readonly commit: (items: T[]) => Promise<void>,
    private readonly maxGroup = 500,
  ) {}

  /** Resolves once `item` is committed; rejects with the commit's error. */
  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.running) return;
      this.running = true;
      // Start on the next turn of the event loop, so that every request read in
      // this one joins the group (a synchronous driver blocks the loop while it
      // commits, and requests pile up meanwhile).
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, this.maxGroup);
        try {
          await this.commit(group.map((g) => g.item));
          for (const g of group) g.resolve();
        } catch (err) {
          for (const g of group) g.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
