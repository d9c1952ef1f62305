import type { ScheduleStore } from '../schedules/index.js';

/** Where a saved script runs when a launch names no targets of its own. */
export interface ScriptTargets {
  systemIds: string[];
  groupIds: string[];
  /** Selector text; its grammar is checked where it is resolved, at launch. */
  selector: string | null;
}

/** How a saved script starts: by hand (or API), by a named trigger, on a cron schedule, or once at an instant. */
export const LAUNCH_TYPES = ['manual', 'trigger', 'repeated', 'one-time'] as const;
export type LaunchType = (typeof LAUNCH_TYPES)[number];

/** The operating-system family a script is written for; null when it does not say. */
export const PLATFORMS = ['linux', 'mac', 'windows'] as const;

/** A saved script: content and run settings, reusable by name or id. */
export interface ScriptRecord {
  id: string;
  organizationId: string;
  name: string;
  content: string;
  shell: string;
  runAs: string | null;
  timeoutS: number;
  ttlS: number;
  defaultTargets: ScriptTargets;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  /** Trigger calls with this name start the script (when `launchType` is `trigger`). */
  triggerName: string | null;
  launchType: LaunchType;
  /** Cron, 5 or 6 fields, for `repeated`; read in `timezone`. */
  schedule: string | null;
  timezone: string | null;
  /** The instant of a `one-time` launch. */
  runAt: string | null;
  /** Launch for each newly enrolled system the default targets cover. */
  runOnEnroll: boolean;
  platform: string | null;
  /** When the scheduler fires it next; null when nothing is scheduled. */
  nextFireAt: string | null;
  /** Caller-set key/value pairs, kept and returned as given. */
  attributes: Record<string, string>;
}

/** Storage of saved scripts, and of their fires for the scheduler. Names are unique per organization. */
export interface ScriptStore extends ScheduleStore {
  /** False when the organization already has a script of that name. */
  insertScript(script: ScriptRecord): Promise<boolean>;
  listScripts(organizationId: string): Promise<ScriptRecord[]>;
  getScript(organizationId: string, id: string): Promise<ScriptRecord | undefined>;
  findScriptByName(organizationId: string, name: string): Promise<ScriptRecord | undefined>;
  /**
   * Replaces every mutable column; `name_taken` when another script of the organization has the new name.
   * `next_fire_at` is written only with `reschedule`, so an edit never undoes a fire the scheduler just claimed.
   */
  updateScript(script: ScriptRecord, options?: { reschedule: boolean }): Promise<'updated' | 'not_found' | 'name_taken'>;
  /** The organization's scripts launched by this trigger name. */
  listByTrigger(organizationId: string, triggerName: string): Promise<ScriptRecord[]>;
  /** The organization's scripts flagged run-on-enroll. */
  listRunOnEnroll(organizationId: string): Promise<ScriptRecord[]>;
  /** Scripts of every organization whose next fire time is at or before `now`, soonest first. */
  dueScripts(now: string, limit: number): Promise<ScriptRecord[]>;
  /** Fires claimed before `before` and never finished: their claimer died or hangs. */
  stalePendingFires(before: string, limit: number): Promise<Array<{ script: ScriptRecord; slot: string; since: string }>>;
  /** False when no script with that id is in the organization. */
  deleteScript(organizationId: string, id: string): Promise<boolean>;
}
