/** How a command ended, for callers waiting on it. */
export interface Outcome {
  state: 'done' | 'discarded';
  error: string | null;
}

/** In-process waiters on commands; other replicas' completions are found by polling. */
export class Completions {
  private readonly waiters = new Map<string, Set<(o: Outcome) => void>>();

  /** Resolves with the outcome, or undefined after `ms`. */
  wait(id: string, ms: number): Promise<Outcome | undefined> {
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      const done = (o: Outcome | undefined) => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(id);
        resolve(o);
      };
      const timer = setTimeout(() => done(undefined), ms);
      set.add(done);
    });
  }

  /** Wakes everyone waiting on `id`. */
  settle(id: string, outcome: Outcome): void {
    for (const w of [...(this.waiters.get(id) ?? [])]) w(outcome);
  }
}
