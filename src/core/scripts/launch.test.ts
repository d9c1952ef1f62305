import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPublicKey, coreFixture, deliver, FACTS, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import type { AgentResult } from '../jobs/run-lifecycle.js';

function failed(runId: string): AgentResult {
  return {
    run_id: runId,
    outcome: 'exited',
    exit_code: 1,
    signal: null,
    started_at: '2026-11-23T12:00:01.000Z',
    finished_at: '2026-11-23T12:00:02.000Z',
    stdout: '',
    stderr: '',
    stdout_truncated: false,
    stderr_truncated: false,
    error: null,
  };
}

describe.each(DATABASES)('scripts.launch on $name', ({ name, skip }) => {
  let f: CoreFixture;
  let a: string;
  let b: string;
  /** What each system's agent would be handed now: its deliveries, by job. */
  const delivered = async (jobId: string) => {
    const out = new Map<string, Record<string, string>>();
    for (const system of [a, b]) for (const d of await deliver(f.core, system)) if (d.jobId === jobId) out.set(system, d.env);
    return out;
  };

  beforeAll(async () => {
    if (skip) return;
    f = await coreFixture(name);
    a = (await f.core.systems.enroll(f.enrollmentKey, { public_key: agentPublicKey(), facts: FACTS }, null)).id;
    b = (await f.core.systems.enroll(f.enrollmentKey, { public_key: agentPublicKey(), facts: { ...FACTS, hostname: 'web-2' } }, null)).id;
  });
  afterAll(async () => f?.close());

  it.skipIf(skip)("freezes the script's content and takes its defaults and bound targets", async () => {
    const script = await f.core.scripts.create(f.admin, {
      name: 'defaults',
      content: 'echo defaults',
      shell: 'sh',
      timeout_s: 30,
      ttl_s: 600,
      default_targets: { system_ids: [a] },
    });
    const { job, runs } = await f.core.scripts.launch(f.admin, 'defaults', { source: 'api' });
    expect(job).toMatchObject({ scriptId: script.id, source: 'api', content: 'echo defaults', shell: 'sh', timeoutS: 30, ttlS: 600, total: 1, retryOf: null });
    expect(runs.map((r) => r.systemId)).toEqual([a]);
    await f.core.scripts.update(f.admin, script.id, { content: 'echo edited' });
    expect((await f.core.jobs.get(f.admin, job.id)).content).toBe('echo defaults');
  });

  it.skipIf(skip)('takes what the launch names over the defaults', async () => {
    await f.core.scripts.create(f.admin, { name: 'overrides', content: 'echo overrides', shell: 'sh', timeout_s: 30, default_targets: { system_ids: [a] } });
    const { job, runs } = await f.core.scripts.launch(f.admin, 'overrides', {
      source: 'cli',
      targets: { system_ids: [b] },
      shell: 'bash',
      timeout_s: 5,
      env: { MODE: 'fast' },
    });
    expect(job).toMatchObject({ source: 'cli', shell: 'bash', timeoutS: 5, ttlS: 3600, env: { MODE: 'fast' } });
    expect(runs.map((r) => r.systemId)).toEqual([b]);
  });

  it.skipIf(skip)('refuses content, and a script with no bound targets when the launch names none', async () => {
    await f.core.scripts.create(f.admin, { name: 'unbound', content: 'true' });
    await expect(f.core.scripts.launch(f.admin, 'unbound', { source: 'api' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'targets' });
    await expect(f.core.scripts.launch(f.admin, 'unbound', { source: 'api', content: 'id', targets: { system_ids: [a] } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'content',
    });
    await expect(f.core.scripts.launch(f.admin, 'no-such-script', { source: 'api' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it.skipIf(skip)("gives each run the job's environment with its own variables on top, at delivery", async () => {
    await f.core.scripts.create(f.admin, { name: 'colors', content: 'echo "$COLOR"', default_targets: { system_ids: [a, b] } });
    const { job } = await f.core.scripts.launch(f.admin, 'colors', {
      source: 'api',
      env: { COLOR: 'grey', SHARED: 'yes' },
      runEnv: { [a]: { COLOR: 'red', ONLY_A: '1' } },
    });
    expect(job.env).toEqual({ COLOR: 'grey', SHARED: 'yes' });
    const envs = await delivered(job.id);
    expect(envs.get(a)).toEqual({ COLOR: 'red', SHARED: 'yes', ONLY_A: '1' });
    expect(envs.get(b)).toEqual({ COLOR: 'grey', SHARED: 'yes' });
  });

  it.skipIf(skip)('a retry keeps each system its own variables', async () => {
    const { job, runs } = await f.core.scripts.launch(f.admin, 'colors', { source: 'api', runEnv: { [a]: { COLOR: 'red' }, [b]: { COLOR: 'blue' } } });
    await delivered(job.id);
    for (const run of runs) expect(await f.core.runs.complete(run.systemId, failed(run.id))).toBe(true);
    const retry = await f.core.jobs.retry(f.admin, job.id);
    expect(retry.job).toMatchObject({ retryOf: job.id, scriptId: job.scriptId });
    const envs = await delivered(retry.job.id);
    expect(envs.get(a)).toEqual({ COLOR: 'red' });
    expect(envs.get(b)).toEqual({ COLOR: 'blue' });
  });

  it.skipIf(skip)('refuses a denied or reserved name, a system outside the targets and an oversized run env, launching nothing', async () => {
    const before = (await f.core.jobs.list(f.admin, { limit: 500 })).length;
    await expect(f.core.scripts.launch(f.admin, 'colors', { source: 'api', runEnv: { [a]: { BASH_ENV: '/tmp/x' } } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: `run_env.${a}.BASH_ENV`,
      message: expect.stringContaining('BASH_ENV'),
    });
    await expect(f.core.scripts.launch(f.admin, 'colors', { source: 'api', runEnv: { [b]: { MUSTER_RUN_ID: 'x' } } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: `run_env.${b}.MUSTER_RUN_ID`,
    });
    await expect(
      f.core.scripts.launch(f.admin, 'colors', { source: 'api', targets: { system_ids: [a] }, runEnv: { [b]: { COLOR: 'blue' } } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: `run_env.${b}`, message: expect.stringContaining(b) });
    await expect(f.core.scripts.launch(f.admin, 'colors', { source: 'api', runEnv: { [a]: { COLOR: 7 } } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: `run_env.${a}.COLOR`,
    });
    // The limits hold for the run's whole environment: the job's 100 KiB and the run's 40 KiB pass alone, not together.
    const big = (n: number) => 'x'.repeat(n * 1024);
    await expect(
      f.core.scripts.launch(f.admin, 'colors', { source: 'api', env: { JOB_BLOB: big(100) }, runEnv: { [a]: { RUN_BLOB: big(40) } } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: `run_env.${a}`, message: expect.stringContaining('128 KiB') });
    expect((await f.core.jobs.list(f.admin, { limit: 500 })).length).toBe(before);
  });

  it.skipIf(skip)('needs an operator', async () => {
    const viewer = { ...f.admin, role: 'viewer' as const };
    await expect(f.core.scripts.launch(viewer, 'colors', { source: 'api' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
