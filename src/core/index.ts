import type { AuditSink } from './audit/index.js';
import type { Clock } from './clock.js';
import { Activity, JobEvents, JobService, RunLifecycle, type JobLimits, type JobStore, type RunNotifier } from './jobs/index.js';
import { KeyService, type KeyStore } from './keys/index.js';
import { OrganizationService, type OrganizationStore } from './organizations/index.js';
import { ScriptService, type ScriptStore } from './scripts/index.js';
import { SystemService, type SystemStore } from './systems/index.js';

/** Everything core needs from storage: one narrow interface per concept. */
export interface CoreStores {
  organizations: OrganizationStore;
  keys: KeyStore;
  systems: SystemStore;
  jobs: JobStore;
  scripts: ScriptStore;
  audit: AuditSink;
}

export interface CoreDeps {
  stores: CoreStores;
  clock: Clock;
  notifier: RunNotifier;
  limits: JobLimits;
  /** Seconds after a run's timeout before a run on a vanished agent counts as lost. */
  lostGraceS?: number;
}

/** The domain services, wired. Faces, hub and CLI use these and nothing below them. */
export interface Core {
  organizations: OrganizationService;
  keys: KeyService;
  systems: SystemService;
  jobs: JobService;
  scripts: ScriptService;
  runs: RunLifecycle;
  events: JobEvents;
  /** Wakes live streams on this replica (the sweeper and hub also ring it). */
  activity: Activity;
}

/** Builds the core from its dependencies. */
export function createCore(deps: CoreDeps): Core {
  const { stores, clock } = deps;
  const keys = new KeyService(stores.keys, stores.audit, clock);
  const activity = new Activity();
  return {
    activity,
    events: new JobEvents(stores.jobs, activity),
    keys,
    organizations: new OrganizationService(stores.organizations, keys, stores.audit, clock),
    systems: new SystemService(stores.systems, keys, stores.audit, clock),
    jobs: new JobService(stores.jobs, stores.systems, stores.audit, deps.notifier, clock, deps.limits),
    scripts: new ScriptService(stores.scripts, stores.audit, clock, deps.limits),
    runs: new RunLifecycle(stores.jobs, clock, deps.limits.outputBytes, deps.notifier, deps.lostGraceS, activity),
  };
}

export type { Actor, Role } from './access/index.js';
export { MusterError, isMusterError, type ErrorCode, ERROR_CODES } from './errors.js';
