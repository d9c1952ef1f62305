import { describe, expect, it } from 'vitest';
import { ROLES as CORE_ROLES } from '../../core/access/index.js';
import { DEVICE_STATUSES as CORE_DEVICE_STATUSES } from '../../core/attributes/script-jobs.js';
import { RUN_STATES as CORE_RUN_STATES } from '../../core/jobs/run-states.js';
import type { JobSource } from '../../core/jobs/store.js';
import { LAUNCH_TYPES as CORE_LAUNCH_TYPES } from '../../core/scripts/store.js';
import { DEVICE_STATUSES, JOB_SOURCES, LAUNCH_TYPES, ROLES, RUN_STATES } from './index.js';

/** The wire types keep their own copies of core's lists (the CLI and the console load no core): they must stay equal. */
describe('the native API wire lists', () => {
  it("are core's lists, in core's order", () => {
    expect(RUN_STATES).toEqual(CORE_RUN_STATES);
    expect(ROLES).toEqual(CORE_ROLES);
    expect(LAUNCH_TYPES).toEqual(CORE_LAUNCH_TYPES);
    expect(DEVICE_STATUSES).toEqual(CORE_DEVICE_STATUSES);
  });

  it("name exactly core's job sources", () => {
    // A compile-time check both ways; the test fails to build when they drift.
    const wire: readonly JobSource[] = JOB_SOURCES;
    const core: Record<JobSource, true> = { api: true, cli: true, trigger: true, schedule: true, enroll: true };
    expect([...wire].sort()).toEqual(Object.keys(core).sort());
  });
});
