import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreFixture, FACTS, type CoreFixture } from '../../../test/support/core.js';
import { PG_URL } from '../../../test/support/databases.js';
import type { JobStore, ResultToStore } from '../../core/jobs/index.js';
import { createStores, type Database } from '../index.js';

function ed25519Pem(): string {
  return generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

function succeeded(systemId: string, runId: string): ResultToStore {
  const at = new Date().toISOString();
  return {
    systemId,
    runId,
    completion: {
      state: 'succeeded',
      reason: null,
      exitCode: 0,
      signal: null,
      stdout: 'ok\n',
      stderr: '',
      stdoutTruncated: false,
      stderrTruncated: false,
      startedAt: at,
      finishedAt: at,
    },
  };
}

/**
 * Two replicas over one PostgreSQL, each storing the result of one of a job's
 * last two runs at the same moment. Under READ COMMITTED each transaction's
 * "have all runs ended?" check sees the other's run still open unless the
 * decision is serialised on the job row; then nobody stamps finished_at.
 */
describe.skipIf(!PG_URL)('finishing a job from two replicas at once on postgres', () => {
  const ITERATIONS = 60;
  let f: CoreFixture;
  let second: Database;
  let replicas: [JobStore, JobStore];
  const systems: string[] = [];

  beforeAll(async () => {
    f = await coreFixture('postgres');
    second = f.test.open();
    replicas = [createStores(f.database).jobs, createStores(second).jobs];
    for (const hostname of ['race-a', 'race-b']) {
      systems.push((await f.core.systems.enroll(f.enrollmentKey, { public_key: ed25519Pem(), facts: { ...FACTS, hostname } }, null)).id);
    }
  });
  afterAll(async () => {
    await second?.close();
    await f?.close();
  });

  it(`stamps finished_at and the job's status every time (${ITERATIONS} races)`, async () => {
    const unfinished: string[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const { job, runs } = await f.core.jobs.launch(f.admin, { content: 'true', targets: { system_ids: systems } });
      await f.core.runs.deliverableBatch(systems);
      const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];
      const at = f.clock.now().toISOString();
      await Promise.all([replicas[0].completeRuns([succeeded(a.systemId, a.id)], at), replicas[1].completeRuns([succeeded(b.systemId, b.id)], at)]);
      const view = await f.core.jobs.get(f.admin, job.id);
      expect(view).toMatchObject({ done: true, status: 'succeeded', counts: { succeeded: 2 } });
      if (view.finishedAt === null) unfinished.push(job.id);
    }
    expect(unfinished).toEqual([]);
  });
});
