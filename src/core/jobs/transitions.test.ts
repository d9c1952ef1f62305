import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreFixture, exited, FACTS, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import { createStores } from '../../store/index.js';
import { JobSweeper } from './sweeper.js';
import { TransitionSink, type Transition } from './transitions.js';

function ed25519Pem(): string {
  return generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** A transition in one line, with the run named by its system's hostname. */
function line(t: Transition, hostOf: Map<string, string>): string {
  return t.kind === 'job' ? `job ${t.from ?? '-'} → ${t.to} (${t.reason})` : `${hostOf.get(t.systemId)} ${t.from ?? '-'} → ${t.to} (${t.reason})`;
}

describe('TransitionSink', () => {
  it('fans a batch out to every subscriber; one that throws or rejects is reported and breaks nobody', async () => {
    const errors: unknown[] = [];
    const sink = new TransitionSink((err) => errors.push(err));
    const seen: number[] = [];
    sink.subscribe(() => {
      throw new Error('boom');
    });
    sink.subscribe(async () => Promise.reject(new Error('later')));
    const stop = sink.subscribe((batch) => void seen.push(batch.length));
    const t: Transition = { kind: 'job', jobId: 'j', organizationId: 'o', from: null, to: 'running', reason: 'launched', at: '2026-11-23T12:00:00.000Z' };
    expect(() => sink.publish([t, t])).not.toThrow();
    sink.publish([]);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(seen).toEqual([2]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom', 'later']);
    stop();
    sink.publish([t]);
    expect(seen).toEqual([2]);
  });
});

describe.each(DATABASES)('run and job transitions on $name', ({ name, skip }) => {
  let f: CoreFixture;
  const ids: Record<string, string> = {};
  const hostOf = new Map<string, string>();
  const seen: Transition[] = [];
  let sweeper: JobSweeper;

  beforeAll(async () => {
    if (skip) return;
    f = await coreFixture(name);
    for (const hostname of ['t-a', 't-b', 't-c']) {
      const s = await f.core.systems.enroll(f.enrollmentKey, { public_key: ed25519Pem(), facts: { ...FACTS, hostname } }, null);
      ids[hostname] = s.id;
      hostOf.set(s.id, hostname);
    }
    // A subscriber that fails must not keep the engine or the others from their work.
    f.core.transitions.subscribe(() => {
      throw new Error('a broken subscriber');
    });
    f.core.transitions.subscribe((batch) => void seen.push(...batch));
    sweeper = new JobSweeper(
      createStores(f.database).jobs,
      { runsCreated: () => undefined, cancelRuns: () => undefined },
      f.clock,
      1000,
      undefined,
      f.core.transitions,
    );
  });
  afterAll(async () => f?.close());

  /** The transitions of one job since the last call, in the order they were published. */
  let cursor = 0;
  function since(jobId: string): string[] {
    const batch = seen.slice(cursor);
    cursor = seen.length;
    return batch.filter((t) => t.jobId === jobId).map((t) => line(t, hostOf));
  }

  it.skipIf(skip)("a job's life: launched, delivered, started, ended, finished with its status", async () => {
    const { job, runs } = await f.core.jobs.launch(f.admin, { content: 'true', targets: { system_ids: [ids['t-a']!, ids['t-b']!] } });
    expect(since(job.id).sort()).toEqual(['job - → running (launched)', 't-a - → pending (launched)', 't-b - → pending (launched)']);
    await f.core.runs.deliverableBatch([ids['t-a']!, ids['t-b']!]);
    expect(since(job.id).sort()).toEqual(['t-a pending → delivered (delivered)', 't-b pending → delivered (delivered)']);
    const [a, b] = [ids['t-a']!, ids['t-b']!].map((s) => runs.find((r) => r.systemId === s)!) as [(typeof runs)[0], (typeof runs)[0]];
    const startedAt = f.clock.now().toISOString();
    const started = f.core.runs.started(a.systemId, a.id, startedAt);
    await f.core.runs.flushStarts();
    await started;
    expect(since(job.id)).toEqual(['t-a delivered → running (started)']);
    await f.core.runs.complete(a.systemId, exited(a.id, 0));
    expect(since(job.id)).toEqual(['t-a running → succeeded (succeeded)']);
    await f.core.runs.complete(b.systemId, exited(b.id, 3));
    expect(since(job.id)).toEqual(['t-b delivered → failed (failed)', 'job running → finished (failed)']);
    // A duplicate result changes nothing, so it says nothing.
    await f.core.runs.complete(b.systemId, exited(b.id, 3));
    expect(since(job.id)).toEqual([]);
    const finished = seen.find((t) => t.kind === 'job' && t.jobId === job.id && t.to === 'finished')!;
    expect(finished).toEqual({
      kind: 'job',
      jobId: job.id,
      organizationId: f.admin.organizationId,
      from: 'running',
      to: 'finished',
      reason: 'failed',
      at: f.clock.now().toISOString(),
    });
    expect(seen.find((t) => t.kind === 'run' && t.runId === a.id && t.to === 'running')).toMatchObject({
      jobId: job.id,
      systemId: a.systemId,
      organizationId: f.admin.organizationId,
      at: startedAt,
    });
  });

  it.skipIf(skip)("a vanished agent's run ends lost; its late result replaces lost", async () => {
    const { job, runs } = await f.core.jobs.launch(f.admin, { content: 'sleep 60', targets: { system_ids: [ids['t-c']!] }, timeout_s: 5 });
    await f.core.runs.deliverableBatch([ids['t-c']!]);
    since(job.id);
    f.clock.advance(70_000);
    await sweeper.sweepOnce();
    expect(since(job.id)).toEqual(['t-c delivered → lost (lost)', 'job running → finished (failed)']);
    await f.core.runs.complete(ids['t-c']!, exited(runs[0]!.id, 0));
    expect(since(job.id)).toEqual(['t-c lost → succeeded (succeeded)']);
  });

  it.skipIf(skip)('past max_errors the job stops and its waiting runs are cancelled', async () => {
    const all = Object.values(ids);
    const { job } = await f.core.jobs.launch(f.admin, { content: 'false', targets: { system_ids: all }, max_concurrency: 1, max_errors: 0 });
    const claimed = [...(await f.core.runs.deliverableBatch(all)).entries()].flatMap(([systemId, ds]) =>
      ds.filter((d) => d.jobId === job.id).map((d) => ({ systemId, runId: d.runId })),
    );
    expect(claimed).toHaveLength(1);
    const first = hostOf.get(claimed[0]!.systemId)!;
    const others = ['t-a', 't-b', 't-c'].filter((h) => h !== first);
    expect(since(job.id).filter((l) => l.includes('delivered'))).toEqual([`${first} pending → delivered (delivered)`]);
    await f.core.runs.complete(claimed[0]!.systemId, exited(claimed[0]!.runId, 1));
    const lines = since(job.id);
    expect([lines[0], lines[1], ...lines.slice(2, 4).sort(), lines[4]]).toEqual([
      `${first} delivered → failed (failed)`,
      'job running → stopped (max_errors)',
      ...others.map((h) => `${h} pending → cancelled (max_errors)`),
      'job stopped → finished (failed)',
    ]);
    expect(lines).toHaveLength(5);
  });

  it.skipIf(skip)('a cancel: waiting runs at once, a delivered run when its agent confirms, then the job finishes cancelled', async () => {
    const { job } = await f.core.jobs.launch(f.admin, { content: 'sleep 60', targets: { system_ids: [ids['t-a']!, ids['t-b']!] } });
    await f.core.runs.deliverableBatch([ids['t-a']!]);
    since(job.id);
    await f.core.jobs.cancel(f.admin, { jobId: job.id });
    expect(since(job.id)).toEqual(['job running → stopped (cancelled)', 't-b pending → cancelled (cancelled)']);
    expect(await f.core.runs.pendingCancels(ids['t-a']!, [])).toEqual([]);
    expect(since(job.id)).toEqual(['t-a delivered → cancelled (cancelled)', 'job stopped → finished (cancelled)']);
    expect(await f.core.jobs.get(f.admin, job.id)).toMatchObject({ done: true, status: 'cancelled' });
  });
});
