import type { Clock } from '../clock.js';
import type { JobStore } from './store.js';
import type { RunNotifier } from './notifier.js';
import { TransitionSink } from './transitions.js';

/**
 * Ends runs that can no longer end by themselves: pending past their
 * time-to-live (`undeliverable`), in flight on a vanished agent past timeout
 * plus grace (`lost`). Every replica may run it: each change is a guarded
 * UPDATE, so two sweeps never double-count.
 */
export class JobSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly jobs: JobStore,
    private readonly notifier: RunNotifier,
    private readonly clock: Clock,
    private readonly intervalMs = 1000,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly transitions: TransitionSink = new TransitionSink(),
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweepOnce(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; overlapping calls share the pass in progress. */
  sweepOnce(): Promise<void> {
    this.running ??= this.jobs
      .sweep(this.clock.now().toISOString())
      .then(({ effects, transitions }) => {
        const waiting = effects.flatMap((e) => e.waitingSystems);
        if (waiting.length > 0) this.notifier.runsCreated(waiting);
        this.transitions.publish(transitions);
      })
      .catch(this.onError)
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
