import type { Actor } from '../access/index.js';
import type { Clock } from '../clock.js';
import { isMusterError } from '../errors.js';
import { nextCronFire } from './cron.js';
import type { ScheduledLauncher, ScheduledScript, ScheduleStore } from './store.js';

/** How many due fires one tick handles; the next tick takes the rest. */
const BATCH = 100;

/** A fire claimed this long ago and not finished is taken over: its claimer died mid-launch. */
const PENDING_LEASE_MS = 60_000;

/** Who launched a scheduled job: the script and the slot, so a takeover can tell whether the job exists. */
function fireLabel(scriptId: string, slot: string): string {
  return `schedule:${scriptId}@${slot}`;
}

/** What the scheduler reports: every fire it launched, and failures it survived. */
export interface SchedulerEvents {
  fired?(script: ScheduledScript, jobId: string, slot: string): void;
  error?(err: unknown, context: Record<string, unknown>): void;
}

/**
 * Fires scheduled scripts. The next fire time lives in the database; each
 * due fire is claimed with a compare-and-set of `next_fire_at`, so of
 * several replicas exactly one launches it, and a restart neither loses nor
 * repeats one. Fires missed while no server ran collapse into one: the next
 * time is computed from now, not from the missed slot. A claimed fire stays
 * marked pending until its job is written; if its claimer dies in between,
 * another tick takes it over after a lease and launches it unless the job
 * (found by its label) exists.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly store: ScheduleStore,
    private readonly scripts: ScheduledLauncher,
    private readonly clock: Clock,
    private readonly intervalMs = 1000,
    private readonly events: SchedulerEvents = {},
  ) {}

  /** Fires what is due now (missed fires included), then checks every `intervalMs`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop();
  }

  /** Stops checking; resolves once a tick in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Fires every due script once (and takes over fires whose claimer died); returns how many this replica launched. */
  async tick(): Promise<number> {
    const now = this.clock.now();
    let launched = await this.recover(now);
    for (const script of await this.store.dueScripts(now.toISOString(), BATCH)) {
      const slot = script.nextFireAt!;
      const next =
        script.launchType === 'repeated' && script.schedule ? (nextCronFire(script.schedule, script.timezone ?? 'UTC', now)?.toISOString() ?? null) : null;
      if (!(await this.store.claimFire(script.id, slot, next, now.toISOString()))) continue;
      if (await this.fire(script, slot)) launched++;
    }
    return launched;
  }

  private async recover(now: Date): Promise<number> {
    let launched = 0;
    const before = new Date(now.getTime() - PENDING_LEASE_MS).toISOString();
    for (const { script, slot, since } of await this.store.stalePendingFires(before, BATCH)) {
      if (!(await this.store.reclaimFire(script.id, slot, since, now.toISOString()))) continue;
      if (await this.store.jobExists(script.id, fireLabel(script.id, slot))) await this.store.finishFire(script.id, slot);
      else if (await this.fire(script, slot)) launched++;
    }
    return launched;
  }

  /** Launches one claimed fire; a fire that cannot launch (no targets, say) is finished, not retried. */
  private async fire(script: ScheduledScript, slot: string): Promise<boolean> {
    try {
      const actor: Actor = { organizationId: script.organizationId, role: 'operator', label: fireLabel(script.id, slot) };
      const { job } = await this.scripts.launch(actor, script.id, { source: 'schedule' });
      await this.store.finishFire(script.id, slot);
      this.events.fired?.(script, job.id, slot);
      return true;
    } catch (err) {
      this.events.error?.(err, { script: script.id, slot });
      if (isMusterError(err)) await this.store.finishFire(script.id, slot);
      return false;
    }
  }

  private loop(): void {
    if (this.stopped) return;
    this.running = this.tick()
      .then(
        () => undefined,
        (err: unknown) => this.events.error?.(err, { during: 'tick' }),
      )
      .finally(() => {
        if (!this.stopped) this.timer = setTimeout(() => this.loop(), this.intervalMs);
      });
  }
}
