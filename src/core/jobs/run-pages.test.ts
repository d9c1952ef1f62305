import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPublicKey, coreFixture, deliver, exited, FACTS, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import type { RunRecord } from './store.js';

/** Systems of the job; a few share a hostname, so the order falls back to the run id. */
const SYSTEMS = 24;

describe.each(DATABASES)("a job's runs a page at a time on $name", ({ name, skip }) => {
  let f: CoreFixture;
  let systems: string[];
  beforeAll(async () => {
    if (skip) return;
    f = await coreFixture(name);
    systems = [];
    for (let i = 0; i < SYSTEMS; i++) {
      const hostname = `node-${String(i % 20).padStart(2, '0')}`;
      systems.push((await f.core.systems.enroll(f.enrollmentKey, { public_key: agentPublicKey(), facts: { ...FACTS, hostname } }, null)).id);
    }
  });
  afterAll(async () => f?.close());

  /** Pages through the job's runs `limit` at a time, calling `between` after each page; every run seen, in order. */
  async function pageThrough(jobId: string, limit: number, state: RunRecord['state'] | undefined, between: (page: number) => Promise<void>) {
    const seen: RunRecord[] = [];
    let cursor: string | undefined;
    for (let page = 0; ; page++) {
      const got = await f.core.jobs.runsPage(f.admin, jobId, { limit, cursor, state });
      seen.push(...got.runs);
      await between(page);
      if (got.nextCursor === null) return { seen, total: got.total };
      cursor = got.nextCursor;
    }
  }

  it.skipIf(skip)('gives every run once, by hostname, while runs change state between pages', async () => {
    const { job } = await f.core.jobs.launch(f.admin, { content: 'true', targets: { system_ids: systems } });
    const all = await f.core.jobs.runs(f.admin, job.id);
    // Between pages, a few systems take their runs and finish them (one fails), from the end of the order and the start.
    const { seen, total } = await pageThrough(job.id, 5, undefined, async (page) => {
      for (const system of [systems[page]!, systems[SYSTEMS - 1 - page]!]) {
        for (const d of await deliver(f.core, system)) await f.core.runs.complete(system, exited(d.runId, page === 1 ? 1 : 0));
      }
    });
    expect(total).toBe(SYSTEMS);
    expect(seen.map((r) => r.id)).toEqual(all.map((r) => r.id));
    expect(new Set(seen.map((r) => r.id)).size).toBe(SYSTEMS);
    const keys = seen.map((r) => `${r.hostname} ${r.id}`);
    expect(keys).toEqual([...keys].sort());
  });

  it.skipIf(skip)('filters by state, with the total that match, and misses no run that stays in it', async () => {
    const { job } = await f.core.jobs.launch(f.admin, { content: 'true', targets: { system_ids: systems } });
    // Every other system finishes its run first: the rest stay pending.
    for (const system of systems.filter((_, i) => i % 2 === 0)) {
      for (const d of await deliver(f.core, system)) await f.core.runs.complete(system, exited(d.runId, 0));
    }
    const stayPending = new Set((await f.core.jobs.runs(f.admin, job.id)).filter((r) => r.state === 'pending').map((r) => r.id));
    expect(stayPending.size).toBe(SYSTEMS / 2);
    // While paging the succeeded ones, more runs succeed: those already succeeded are each seen exactly once.
    const succeededBefore = new Set((await f.core.jobs.runs(f.admin, job.id)).filter((r) => r.state === 'succeeded').map((r) => r.id));
    const odd = systems.filter((_, i) => i % 2 === 1);
    const { seen, total } = await pageThrough(job.id, 4, 'succeeded', async (page) => {
      const system = odd[page];
      if (system) for (const d of await deliver(f.core, system)) await f.core.runs.complete(system, exited(d.runId, 0));
    });
    expect(seen.every((r) => r.state === 'succeeded')).toBe(true);
    expect(new Set(seen.map((r) => r.id)).size).toBe(seen.length);
    for (const id of succeededBefore) expect(seen.map((r) => r.id)).toContain(id);
    expect(total).toBeGreaterThanOrEqual(succeededBefore.size);
    const pending = await f.core.jobs.runsPage(f.admin, job.id, { limit: 1000, state: 'pending' });
    expect(pending.total).toBe(pending.runs.length);
    expect(pending.runs.every((r) => r.state === 'pending')).toBe(true);
  });

  it.skipIf(skip)('refuses a limit out of range, an unknown state and a cursor it did not write; another organization sees no job', async () => {
    const { job } = await f.core.jobs.launch(f.admin, { content: 'true', targets: { system_ids: systems.slice(0, 2) } });
    for (const query of [{ limit: 0 }, { limit: 1001 }, { limit: 10, state: 'sleeping' }, { limit: 10, cursor: 'not-a-cursor' }]) {
      await expect(f.core.jobs.runsPage(f.admin, job.id, query), JSON.stringify(query)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    const other = await f.core.organizations.create(f.admin, { name: 'Other', slug: 'other-run-pages' });
    const stranger = await f.core.keys.authenticate(other.apiKey);
    await expect(f.core.jobs.runsPage(stranger, job.id, { limit: 10 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
