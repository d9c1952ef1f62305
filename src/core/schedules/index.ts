export { Scheduler, type SchedulerEvents } from './scheduler.js';
export type { ScheduledLauncher, ScheduledScript, ScheduleStore } from './store.js';
export { checkCron, checkTimezone, nextCronFire } from './cron.js';
