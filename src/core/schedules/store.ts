import type { Actor } from '../access/index.js';

/** A scheduled script as the scheduler reads it: what it needs to claim, time and launch a fire. */
export interface ScheduledScript {
  id: string;
  organizationId: string;
  /** `repeated` scripts get their next slot from `schedule`; any other fires once. */
  launchType: string;
  schedule: string | null;
  timezone: string | null;
  nextFireAt: string | null;
}

/** The fire bookkeeping the scheduler needs; scripts' storage keeps it on each script's row. */
export interface ScheduleStore {
  /** Scripts whose next fire is due at `now`, oldest first. */
  dueScripts(now: string, limit: number): Promise<ScheduledScript[]>;
  /**
   * Compare-and-set of `next_fire_at`: true for the one caller that moved it from `expected`, which
   * also marks `expected` as the fire being launched (pending) since `now`.
   */
  claimFire(id: string, expected: string, next: string | null, now: string): Promise<boolean>;
  /** Clears the pending mark of a fire whose job is written (or that cannot launch). */
  finishFire(id: string, slot: string): Promise<void>;
  /** Fires claimed before `before` and never finished: their claimer died or hangs. */
  stalePendingFires(before: string, limit: number): Promise<Array<{ script: ScheduledScript; slot: string; since: string }>>;
  /** Takes over a stale pending fire (compare-and-set on its `since`); true for the one caller that did. */
  reclaimFire(id: string, slot: string, since: string, now: string): Promise<boolean>;
  /** True when a job launched by `label` from this script exists (the fire was launched after all). */
  jobExists(scriptId: string, label: string): Promise<boolean>;
}

/** How a fire becomes a job: the saved-script launch every other launch takes too. */
export interface ScheduledLauncher {
  launch(actor: Actor, ref: string, launch: { source: 'schedule' }): Promise<{ job: { id: string } }>;
}
