import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPublicKey, coreFixture, deliver, FACTS, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import type { AgentResult } from './run-lifecycle.js';

function result(runId: string, over: Partial<AgentResult> = {}): AgentResult {
  return {
    run_id: runId,
    outcome: 'exited',
    exit_code: 0,
    signal: null,
    started_at: '2026-11-23T12:00:01.000Z',
    finished_at: '2026-11-23T12:00:02.000Z',
    stdout: 'out\n',
    stderr: '',
    stdout_truncated: false,
    stderr_truncated: false,
    error: null,
    ...over,
  };
}

describe.each(DATABASES)('jobs and runs on $name', ({ name, skip }) => {
  let f: CoreFixture;
  let a: string;
  let b: string;
  beforeAll(async () => {
    if (skip) return;
    f = await coreFixture(name);
    a = (await f.core.systems.enroll(f.enrollmentKey, { public_key: agentPublicKey(), facts: FACTS }, null)).id;
    b = (await f.core.systems.enroll(f.enrollmentKey, { public_key: agentPublicKey(), facts: { ...FACTS, hostname: 'web-2' } }, null)).id;
  });
  afterAll(async () => f?.close());

  it.skipIf(skip)('launch freezes the job, writes one pending run per system and wakes delivery', async () => {
    const { job, runs } = await f.core.jobs.launch(f.admin, { content: 'echo hi', targets: { system_ids: [a, b, a] }, env: { GREETING: 'hello' } });
    expect(job).toMatchObject({ total: 2, shell: 'bash', timeoutS: 120, status: 'running', done: false, env: { GREETING: 'hello' } });
    expect(job.counts.pending).toBe(2);
    expect(runs.map((r) => r.hostname).sort()).toEqual(['web-1', 'web-2']);
    expect(f.notified.at(-1)?.sort()).toEqual([a, b].sort());
  });

  it.skipIf(skip)('claims a pending run exactly once, then records start and result idempotently', async () => {
    const { job } = await f.core.jobs.launch(f.admin, { content: 'echo once', targets: { system_ids: [a] } });
    const [first, second] = await Promise.all([deliver(f.core, a), deliver(f.core, a)]);
    const mine = [...first!, ...second!].filter((d) => d.jobId === job.id);
    expect(mine).toHaveLength(1);
    const runId = mine[0]!.runId;
    expect(mine[0]).toMatchObject({ content: 'echo once', shell: 'bash', timeoutS: 120 });
    await f.core.runs.started(a, runId, '2026-11-23T12:00:01.000Z');
    expect((await f.core.jobs.run(f.admin, runId)).state).toBe('running');
    expect(await f.core.runs.complete(a, result(runId, { outcome: 'exited', exit_code: 3, stderr: 'err\n' }))).toBe(true);
    expect(await f.core.runs.complete(a, result(runId))).toBe(true);
    const run = await f.core.jobs.run(f.admin, runId);
    expect(run).toMatchObject({ state: 'failed', exitCode: 3, reason: 'exited with code 3', stdout: 'out\n', stderr: 'err\n' });
    const view = await f.core.jobs.get(f.admin, job.id);
    expect(view).toMatchObject({ done: true, status: 'failed' });
    expect(view.finishedAt).not.toBeNull();
  });

  it.skipIf(skip)("a system cannot report on another system's run", async () => {
    const { runs } = await f.core.jobs.launch(f.admin, { content: 'true', targets: { system_ids: [a] } });
    expect(await f.core.runs.complete(b, result(runs[0]!.id))).toBe(false);
    expect((await f.core.jobs.run(f.admin, runs[0]!.id)).state).toBe('pending');
  });

  it.skipIf(skip)('redelivers runs the agent never received', async () => {
    const { runs } = await f.core.jobs.launch(f.admin, { content: 'true', targets: { system_ids: [b] } });
    const claimed = await deliver(f.core, b);
    expect(claimed.map((d) => d.runId)).toContain(runs[0]!.id);
    const again = await deliver(f.core, b, []);
    expect(again.map((d) => d.runId)).toContain(runs[0]!.id);
    const known = await deliver(f.core, b, [runs[0]!.id]);
    expect(known.map((d) => d.runId)).not.toContain(runs[0]!.id);
  });

  it.skipIf(skip)('caps stored output keeping the tail', async () => {
    const { runs } = await f.core.jobs.launch(f.admin, { content: 'yes', targets: { system_ids: [a] } });
    const big = 'x'.repeat(1024 * 1024) + 'THE END';
    await f.core.runs.complete(a, result(runs[0]!.id, { stdout: big }));
    const run = await f.core.jobs.run(f.admin, runs[0]!.id);
    expect(run.stdoutTruncated).toBe(true);
    expect(run.stdout.endsWith('THE END')).toBe(true);
    expect(Buffer.byteLength(run.stdout)).toBe(1024 * 1024);
  });

  it.skipIf(skip)("rejects bad input naming the field, and other organizations' systems as not found", async () => {
    const bad = [
      [{ content: '', targets: { system_ids: [a] } }, 'content'],
      [{ content: 'x', shell: 'fish', targets: { system_ids: [a] } }, 'shell'],
      [{ content: 'x', timeout_s: 0, targets: { system_ids: [a] } }, 'timeout_s'],
      [{ content: 'x', env: { 'BAD-NAME': 'v' }, targets: { system_ids: [a] } }, 'env.BAD-NAME'],
      [{ content: 'x', env: { N: 1 }, targets: { system_ids: [a] } }, 'env.N'],
      [{ content: 'x', targets: { system_ids: [] } }, 'targets'],
      [{ content: 'x'.repeat(1024 * 1024 + 1), targets: { system_ids: [a] } }, 'content'],
    ] as const;
    for (const [input, field] of bad) {
      await expect(f.core.jobs.launch(f.admin, input)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field });
    }
    const { apiKey } = await f.core.organizations.create(f.admin, { name: 'Other', slug: `other-${name}` });
    const other = await f.core.keys.authenticate(apiKey);
    await expect(f.core.jobs.launch(other, { content: 'x', targets: { system_ids: [a] } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(f.core.systems.get(other, a)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(f.core.jobs.launch(other, { content: 'x', targets: { all: true } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it.skipIf(skip)('viewers cannot launch', async () => {
    const { secret } = await f.core.keys.createApiKey(f.admin, { name: 'v', role: 'viewer' });
    const viewer = await f.core.keys.authenticate(secret);
    await expect(f.core.jobs.launch(viewer, { content: 'x', targets: { all: true } })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
