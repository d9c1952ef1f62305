import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreFixture, exited as exitedWith, FACTS, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import { createStores } from '../../store/index.js';
import { RunLifecycle } from './run-lifecycle.js';
import type { JobStore } from './store.js';

/** Its scripts print ok. */
const exited = (runId: string, code: number) => exitedWith(runId, code, 'ok\n');

function ed25519Pem(): string {
  return generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

describe.each(DATABASES)('batched delivery and group commit on $name', ({ name, skip }) => {
  let f: CoreFixture;
  let systems: string[] = [];
  /** The real store, with a hook in front of completeRuns (faults are injected here, data still goes to the database). */
  let store: JobStore;
  let before: ((items: Parameters<JobStore['completeRuns']>[0]) => void) | undefined;
  /** A slow disk: each commit of results returns only once this opens (the rows are written, not yet "durable"). */
  let slowDisk: Promise<void> | undefined;
  const calls: number[] = [];
  /** Batch sizes of markStartedBatch calls. */
  const starts: number[] = [];
  let lifecycle: RunLifecycle;

  beforeAll(async () => {
    if (skip) return;
    f = await coreFixture(name);
    for (let i = 0; i < 20; i++) {
      const s = await f.core.systems.enroll(f.enrollmentKey, { public_key: ed25519Pem(), facts: { ...FACTS, hostname: `batch-${i}` } }, null);
      systems.push(s.id);
    }
    const real = createStores(f.database).jobs;
    store = {
      ...real,
      completeRuns: async (items, at) => {
        calls.push(items.length);
        before?.(items);
        const out = await real.completeRuns(items, at);
        await slowDisk;
        return out;
      },
      markStartedBatch: async (items) => {
        starts.push(items.length);
        return real.markStartedBatch(items);
      },
    };
    lifecycle = new RunLifecycle(store, f.clock, 1024 * 1024, { runsCreated: (ids) => f.notified.push(ids), cancelRuns: () => undefined });
  });
  afterAll(async () => f?.close());

  const stateOf = async (runId: string) => (await f.core.jobs.run(f.admin, runId)).state;

  async function launchAndClaim(count: number, options: Record<string, unknown> = {}) {
    const { job, runs } = await f.core.jobs.launch(f.admin, { content: 'true', targets: { system_ids: systems.slice(0, count) }, ...options });
    const claimed = await lifecycle.deliverableBatch(systems.slice(0, count));
    return { job, runs, claimed };
  }

  it.skipIf(skip)('claims many systems in one call, and results arriving together commit in one transaction, each acknowledged after it', async () => {
    const { job, runs, claimed } = await launchAndClaim(20);
    expect([...claimed.values()].flat().filter((d) => d.jobId === job.id)).toHaveLength(20);
    calls.length = 0;
    const seenAtAck: string[] = [];
    await Promise.all(
      runs.map(async (r) => {
        expect(await lifecycle.complete(r.systemId, exited(r.id, 0))).toBe(true);
        // When the agent may forget its result, the result is already committed.
        seenAtAck.push(await stateOf(r.id));
      }),
    );
    expect(calls).toEqual([20]);
    expect(seenAtAck.every((s) => s === 'succeeded')).toBe(true);
    expect(await f.core.jobs.get(f.admin, job.id)).toMatchObject({ done: true, status: 'succeeded', counts: { succeeded: 20 } });
  });

  it.skipIf(skip)(
    'starts are written in one batch, never over a stored result, never for another system, and not at all when the result comes first',
    async () => {
      const { runs } = await launchAndClaim(3);
      const at = new Date().toISOString();
      starts.length = 0;
      await Promise.all([lifecycle.started(runs[0]!.systemId, runs[0]!.id, at), lifecycle.started(runs[1]!.systemId, runs[2]!.id, at)]);
      expect(await stateOf(runs[0]!.id)).toBe('running');
      expect(await stateOf(runs[2]!.id)).toBe('delivered');
      // The start of a run whose result is already in hand is dropped.
      const start = lifecycle.started(runs[1]!.systemId, runs[1]!.id, at);
      await lifecycle.complete(runs[1]!.systemId, exited(runs[1]!.id, 0));
      await start;
      expect(starts).toEqual([2]);
      expect(await stateOf(runs[1]!.id)).toBe('succeeded');
      // A start written after the result (another replica, a late batch) changes nothing.
      await createStores(f.database).jobs.markStartedBatch([{ systemId: runs[1]!.systemId, runId: runs[1]!.id, at }]);
      expect(await stateOf(runs[1]!.id)).toBe('succeeded');
      await Promise.all(runs.map((r) => lifecycle.complete(r.systemId, exited(r.id, 0))));
    },
  );

  it.skipIf(skip)('on a slow disk no result is acknowledged before its own batch has committed; results arriving meanwhile form the next batch', async () => {
    const { runs } = await launchAndClaim(6);
    let open!: () => void;
    slowDisk = new Promise((resolve) => (open = resolve));
    calls.length = 0;
    const acked: string[] = [];
    const ack = (r: (typeof runs)[0]) => lifecycle.complete(r.systemId, exited(r.id, 0)).then(() => acked.push(r.id));
    const first = runs.slice(0, 3).map(ack);
    while (calls.length === 0) await new Promise((r) => setTimeout(r, 5));
    const second = runs.slice(3).map(ack);
    await new Promise((r) => setTimeout(r, 100));
    // The first batch is written but its commit has not returned: nobody is acknowledged, and the
    // results that came meanwhile wait for the next batch instead of committing beside it.
    expect(acked).toEqual([]);
    expect(calls).toEqual([3]);
    slowDisk = undefined;
    open();
    await Promise.all([...first, ...second]);
    expect(calls).toEqual([3, 3]);
    expect(acked.slice(0, 3).sort()).toEqual(
      runs
        .slice(0, 3)
        .map((r) => r.id)
        .sort(),
    );
    for (const r of runs) expect(await stateOf(r.id)).toBe('succeeded');
  });

  it.skipIf(skip)('a failed commit acknowledges nothing; retried one by one, only the refused result stays unacknowledged', async () => {
    const { runs } = await launchAndClaim(5);
    const bad = runs[2]!.id;
    before = (items) => {
      if (items.some((i) => i.runId === bad)) throw new Error('the database refused');
    };
    calls.length = 0;
    const settled = await Promise.allSettled(runs.map((r) => lifecycle.complete(r.systemId, exited(r.id, 0))));
    before = undefined;
    expect(calls).toEqual([5, 1, 1, 1, 1, 1]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(await stateOf(bad)).toBe('delivered');
    // The agent keeps the refused result and sends it again: it is stored then.
    expect(await lifecycle.complete(runs[2]!.systemId, exited(bad, 0))).toBe(true);
    expect(await stateOf(bad)).toBe('succeeded');
  });

  it.skipIf(skip)('when every commit fails, no result is acknowledged and nothing is written', async () => {
    const { runs } = await launchAndClaim(3);
    before = () => {
      throw new Error('disk full');
    };
    const settled = await Promise.allSettled(runs.map((r) => lifecycle.complete(r.systemId, exited(r.id, 0))));
    before = undefined;
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    for (const r of runs) expect(await stateOf(r.id)).toBe('delivered');
  });

  it.skipIf(skip)("a batch keeps per-run rules: duplicates, another system's run, errors and max_errors", async () => {
    const { job, runs } = await launchAndClaim(4, { max_errors: 1 });
    const [a, b, c, d] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
    const results = await Promise.all([
      lifecycle.complete(a.systemId, exited(a.id, 1)),
      lifecycle.complete(a.systemId, exited(a.id, 0)), // resent in the same batch: already stored
      lifecycle.complete(b.systemId, exited(c.id, 0)), // not b's run
      lifecycle.complete(c.systemId, exited(c.id, 2)),
    ]);
    expect(results).toEqual([true, true, false, true]);
    expect(await stateOf(a.id)).toBe('failed');
    const view = await f.core.jobs.get(f.admin, job.id);
    expect(view.stoppedReason).toMatch(/2 runs failed, more than max_errors \(1\)/);
    expect(await Promise.all([lifecycle.complete(b.systemId, exited(b.id, 0)), lifecycle.complete(d.systemId, exited(d.id, 0))])).toEqual([true, true]);
    expect(await f.core.jobs.get(f.admin, job.id)).toMatchObject({ done: true, counts: { failed: 2, succeeded: 2 } });
  });

  it.skipIf(skip)('a batch claim respects max_concurrency, and a batch of results frees slots and wakes the waiting systems', async () => {
    const { job, claimed } = await launchAndClaim(6, { max_concurrency: 2 });
    const first = [...claimed.entries()].flatMap(([systemId, ds]) => ds.filter((x) => x.jobId === job.id).map((x) => ({ systemId, runId: x.runId })));
    expect(first).toHaveLength(2);
    expect([...(await lifecycle.deliverableBatch(systems.slice(0, 6))).values()].flat().filter((x) => x.jobId === job.id)).toHaveLength(0);
    f.notified.length = 0;
    await Promise.all(first.map((r) => lifecycle.complete(r.systemId, exited(r.runId, 0))));
    expect(f.notified.flat().length).toBeGreaterThanOrEqual(4);
    const next = [...(await lifecycle.deliverableBatch(systems.slice(0, 6))).values()].flat().filter((x) => x.jobId === job.id);
    expect(next).toHaveLength(2);
  });
});
