import { Cron } from 'croner';
import { invalid } from '../errors.js';

/** Checks an IANA time zone name; `UTC` when none is given. */
export function checkTimezone(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'UTC';
  if (typeof value !== 'string' || value.length > 64) throw invalid('timezone', 'must be an IANA time zone like Europe/Berlin');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
  } catch {
    throw invalid('timezone', `${value} is not an IANA time zone (like Europe/Berlin or UTC)`);
  }
  return value;
}

/**
 * Checks a cron expression of 5 fields (minute first) or 6 (seconds first, as
 * JumpCloud writes them); returns it trimmed, with runs of spaces collapsed.
 */
export function checkCron(value: unknown, timezone: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid('schedule', 'must be a cron expression of 5 or 6 fields');
  const cron = value.trim().split(/\s+/).join(' ');
  const fields = cron.split(' ').length;
  if (fields !== 5 && fields !== 6) throw invalid('schedule', `must be a cron expression of 5 or 6 fields, not ${fields}`);
  try {
    if (!new Cron(cron, { timezone, paused: true }).nextRun()) throw new Error('it never fires');
  } catch (err) {
    throw invalid('schedule', `${cron} is not a valid cron expression: ${(err as Error).message.replace(/^Cron\w*: /, '')}`);
  }
  return cron;
}

/** The first time strictly after `after` that `cron` fires in `timezone`, or null when it never fires again. */
export function nextCronFire(cron: string, timezone: string, after: Date): Date | null {
  return new Cron(cron, { timezone, paused: true }).nextRun(after);
}
