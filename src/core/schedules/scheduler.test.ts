import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPublicKey, coreFixture, FACTS, FakeClock, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import { createStores, type Database } from '../../store/index.js';
import { createCore } from '../index.js';
import { Scheduler } from './scheduler.js';

describe.each(DATABASES)('scheduler on $name', ({ name, skip }) => {
  let f: CoreFixture;
  let system: string;
  const scheduler = (clock = f.clock, database: Database = f.database) => {
    const stores = createStores(database);
    const core =
      database === f.database
        ? f.core
        : createCore({ stores, clock, notifier: { runsCreated: () => {}, cancelRuns: () => {} }, limits: { scriptBytes: 1 << 20, outputBytes: 1 << 20 } });
    return new Scheduler(stores.scripts, core.scripts, clock);
  };
  const scheduledJobs = async (scriptId: string) =>
    (await f.core.jobs.list(f.admin, { limit: 500 })).filter((j) => j.source === 'schedule' && j.scriptId === scriptId);

  beforeAll(async () => {
    if (skip) return;
    f = await coreFixture(name);
    system = (await f.core.systems.enroll(f.enrollmentKey, { public_key: agentPublicKey(), facts: FACTS }, null)).id;
  });
  afterAll(async () => f?.close());

  it.skipIf(skip)('fires a cron slot once, survives a restart without doubling, and runs missed slots once', async () => {
    const script = await f.core.scripts.create(f.admin, {
      name: 'backup',
      content: 'echo backup',
      launch_type: 'repeated',
      schedule: '*/5 * * * *',
      default_targets: { system_ids: [system] },
    });
    expect(script.nextFireAt).toBe('2026-11-23T12:05:00.000Z');
    const first = scheduler();
    f.clock.advance(4 * 60_000);
    expect(await first.tick()).toBe(0);
    f.clock.advance(60_000);
    expect(await first.tick()).toBe(1);
    expect(await first.tick()).toBe(0);
    // A restart: a new scheduler over the same database finds nothing due.
    const second = scheduler();
    expect(await second.tick()).toBe(0);
    // Down for 30 minutes: six missed slots fire once, and the next is after now.
    f.clock.advance(30 * 60_000);
    expect(await second.tick()).toBe(1);
    expect(await second.tick()).toBe(0);
    expect((await f.core.scripts.get(f.admin, script.id)).nextFireAt).toBe('2026-11-23T12:40:00.000Z');
    const jobs = await scheduledJobs(script.id);
    expect(jobs).toHaveLength(2);
    expect(jobs[0]).toMatchObject({ source: 'schedule', content: 'echo backup', total: 1 });
  });

  it.skipIf(skip)('fires a one-time launch once at its instant', async () => {
    const at = new Date(f.clock.now().getTime() + 3600_000).toISOString();
    const script = await f.core.scripts.create(f.admin, {
      name: 'once',
      content: 'true',
      launch_type: 'one-time',
      run_at: at,
      default_targets: { system_ids: [system] },
    });
    // Other tests' schedules share the database, so count this script's jobs, not ticks.
    const s = scheduler();
    await s.tick();
    expect(await scheduledJobs(script.id)).toHaveLength(0);
    f.clock.advance(3600_000);
    await s.tick();
    f.clock.advance(3600_000);
    await s.tick();
    expect(await scheduledJobs(script.id)).toHaveLength(1);
    expect((await f.core.scripts.get(f.admin, script.id)).nextFireAt).toBeNull();
  });

  it.skipIf(skip)('lets exactly one of several replicas fire each slot', async () => {
    const script = await f.core.scripts.create(f.admin, {
      name: 'replicated',
      content: 'true',
      launch_type: 'repeated',
      schedule: '0 * * * * *',
      default_targets: { system_ids: [system] },
    });
    const others = [f.test.open(), f.test.open(), f.test.open()];
    try {
      const replicas = [scheduler(), ...others.map((d) => scheduler(f.clock, d))];
      for (let slot = 0; slot < 3; slot++) {
        f.clock.advance(60_000);
        const fired = await Promise.all(replicas.map((r) => r.tick()));
        expect(fired.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
      }
      expect(await scheduledJobs(script.id)).toHaveLength(3);
    } finally {
      for (const d of others) await d.close();
    }
  });

  it.skipIf(skip)('takes over a fire whose claimer died before writing its job, and never one whose job exists', async () => {
    const stores = createStores(f.database);
    const lost = await f.core.scripts.create(f.admin, {
      name: 'crashed',
      content: 'true',
      launch_type: 'repeated',
      schedule: '0 0 * * *',
      default_targets: { system_ids: [system] },
    });
    const done = await f.core.scripts.create(f.admin, {
      name: 'crashed-late',
      content: 'true',
      launch_type: 'repeated',
      schedule: '0 0 * * *',
      default_targets: { system_ids: [system] },
    });
    // A replica claims both slots and dies: before launching the first, after launching the second.
    for (const script of [lost, done])
      expect(await stores.scripts.claimFire(script.id, script.nextFireAt!, '2099-01-01T00:00:00.000Z', f.clock.now().toISOString())).toBe(true);
    const actor = { organizationId: f.admin.organizationId, role: 'operator' as const, label: `schedule:${done.id}@${done.nextFireAt}` };
    await f.core.scripts.launch(actor, done.id, { source: 'schedule' });
    const s = scheduler();
    await s.tick();
    expect(await scheduledJobs(lost.id)).toHaveLength(0);
    f.clock.advance(61_000);
    await Promise.all([s.tick(), scheduler().tick()]);
    expect(await scheduledJobs(lost.id)).toHaveLength(1);
    expect(await scheduledJobs(done.id)).toHaveLength(1);
    f.clock.advance(61_000);
    await s.tick();
    expect(await scheduledJobs(lost.id)).toHaveLength(1);
    expect(await stores.scripts.stalePendingFires(f.clock.now().toISOString(), 10)).toEqual([]);
  });

  it.skipIf(skip)('an edit that keeps the schedule keeps the claimed next fire; a new schedule moves it', async () => {
    const script = await f.core.scripts.create(f.admin, {
      name: 'edited',
      content: 'true',
      launch_type: 'repeated',
      schedule: '0 4 * * *',
      default_targets: { system_ids: [system] },
    });
    const renamed = await f.core.scripts.update(f.admin, script.id, { name: 'edited-2' });
    expect(renamed.nextFireAt).toBe(script.nextFireAt);
    const moved = await f.core.scripts.update(f.admin, script.id, { schedule: '0 5 * * *' });
    expect(moved.nextFireAt).not.toBe(script.nextFireAt);
    expect(moved.nextFireAt).toMatch(/T05:00:00.000Z$/);
  });

  it.skipIf(skip)('start() fires what is due at once and stop() ends the loop', async () => {
    const clock = new FakeClock(f.clock.now());
    const script = await f.core.scripts.create(f.admin, {
      name: 'started',
      content: 'true',
      launch_type: 'repeated',
      schedule: '* * * * *',
      default_targets: { system_ids: [system] },
    });
    clock.advance(61_000);
    const fired: string[] = [];
    const stores = createStores(f.database);
    const s = new Scheduler(stores.scripts, f.core.scripts, clock, 10_000, { fired: (fire, jobId) => fire.id === script.id && fired.push(jobId) });
    s.start();
    await s.stop();
    expect(fired).toHaveLength(1);
    expect((await scheduledJobs(script.id)).map((j) => j.id)).toEqual(fired);
  });
});
