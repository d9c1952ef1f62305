import { invalid } from '../errors.js';
import { checkCron, checkTimezone, nextCronFire } from '../schedules/index.js';
import { LAUNCH_TYPES, PLATFORMS, type LaunchType, type ScriptRecord } from './store.js';

/** The command fields a caller may set on a script; on update, undefined keeps the old value. */
export interface CommandFieldsInput {
  trigger?: unknown;
  launch_type?: unknown;
  schedule?: unknown;
  timezone?: unknown;
  run_at?: unknown;
  run_on_enroll?: unknown;
  platform?: unknown;
}

export const COMMAND_FIELDS = ['trigger', 'launch_type', 'schedule', 'timezone', 'run_at', 'run_on_enroll', 'platform'] as const;

type CommandFields = Pick<ScriptRecord, 'triggerName' | 'launchType' | 'schedule' | 'timezone' | 'runAt' | 'runOnEnroll' | 'platform' | 'nextFireAt'>;

/** Trigger names go in a URL path: letters, digits, `_`, `.`, `-`. */
const TRIGGER_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Checks a trigger name (also used when a trigger is created or called). */
export function checkTriggerName(value: unknown, field = 'trigger'): string {
  if (typeof value !== 'string' || !TRIGGER_NAME.test(value)) throw invalid(field, 'must be 1 to 64 letters, digits, _ . or -');
  return value;
}

function checkLaunchType(value: unknown): LaunchType {
  if (typeof value !== 'string' || !(LAUNCH_TYPES as readonly string[]).includes(value))
    throw invalid('launch_type', `must be one of ${LAUNCH_TYPES.join(', ')}`);
  return value as LaunchType;
}

function checkInstant(value: unknown): string {
  const ms = typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw invalid('run_at', 'must be an ISO-8601 instant like 2026-12-01T03:00:00Z');
  return new Date(ms).toISOString();
}

function checkPlatform(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || !(PLATFORMS as readonly string[]).includes(value))
    throw invalid('platform', `must be null or one of ${PLATFORMS.join(', ')}`);
  return value;
}

function nullable<T>(value: unknown, check: (v: unknown) => T): T | null {
  return value === null || value === '' ? null : check(value);
}

/**
 * The command fields of a script after applying `input` over `old` (none on
 * create), checked together: `trigger` needs a trigger name, `repeated` a
 * valid cron, `one-time` a future instant. `reschedule` says whether the next
 * fire time must be written (the schedule changed).
 */
export function commandFields(input: CommandFieldsInput, old: CommandFields | undefined, now: Date): CommandFields & { reschedule: boolean } {
  const launchType = input.launch_type === undefined ? (old?.launchType ?? 'manual') : checkLaunchType(input.launch_type);
  const triggerName = input.trigger === undefined ? (old?.triggerName ?? null) : nullable(input.trigger, (v) => checkTriggerName(v));
  const timezone = input.timezone === undefined ? (old?.timezone ?? null) : input.timezone === null ? null : checkTimezone(input.timezone);
  const schedule = input.schedule === undefined ? (old?.schedule ?? null) : nullable(input.schedule, (v) => checkCron(v, timezone ?? 'UTC'));
  const runAt = input.run_at === undefined ? (old?.runAt ?? null) : nullable(input.run_at, checkInstant);
  if (input.run_on_enroll !== undefined && typeof input.run_on_enroll !== 'boolean') throw invalid('run_on_enroll', 'must be a boolean');
  const runOnEnroll = input.run_on_enroll === undefined ? (old?.runOnEnroll ?? false) : input.run_on_enroll;
  const platform = input.platform === undefined ? (old?.platform ?? null) : checkPlatform(input.platform);
  if (launchType === 'trigger' && triggerName === null) throw invalid('trigger', 'a script launched by trigger needs a trigger name');
  if (launchType === 'repeated' && schedule === null) throw invalid('schedule', 'a repeated script needs a cron schedule');
  if (launchType === 'one-time' && runAt === null) throw invalid('run_at', 'a one-time script needs the instant to run at');
  const scheduleChanged = ['launch_type', 'schedule', 'timezone', 'run_at'].some((k) => input[k as keyof CommandFieldsInput] !== undefined);
  const reschedule = old === undefined || scheduleChanged;
  let nextFireAt = old?.nextFireAt ?? null;
  if (reschedule) {
    if (launchType === 'one-time' && scheduleChanged && input.run_at !== undefined && Date.parse(runAt!) < now.getTime() - 60_000) {
      throw invalid('run_at', 'is in the past');
    }
    nextFireAt =
      launchType === 'repeated' ? (nextCronFire(schedule!, timezone ?? 'UTC', now)?.toISOString() ?? null) : launchType === 'one-time' ? runAt : null;
  }
  return { launchType, triggerName, schedule, timezone, runAt, runOnEnroll, platform, nextFireAt, reschedule };
}
