import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { inheritedEnvironment } from '../config/agent.js';
import { RunManager, type RunManagerOptions } from './run-manager.js';
import { Spool } from './spool.js';
import { deliverMessage, MessageLog } from './testing/message-log.js';

function harness(over: Partial<RunManagerOptions> = {}, dir = mkdtempSync(join(tmpdir(), 'muster-runs-'))) {
  const spool = new Spool(join(dir, 'spool'));
  const lost = spool.open();
  const log = new MessageLog();
  const manager = new RunManager({
    spool,
    workRoot: join(dir, 'work'),
    env: inheritedEnvironment(),
    systemEnv: { MUSTER_SYSTEM_ID: 'sys1', MUSTER_SERVER: 'http://127.0.0.1:1' },
    maxConcurrency: 8,
    killGraceMs: 500,
    outputCap: 1024 * 1024,
    send: (m) => (log.add(m), true),
    logger: pino({ level: 'silent' }),
    ...over,
  });
  return { dir, spool, log, manager, lost };
}

describe('RunManager', () => {
  it('runs a script once however often it is delivered, and resends its result', async () => {
    const { dir, spool, log, manager } = harness();
    const run = deliverMessage('once1', 'echo ran >> ../../ran.txt; echo "$MUSTER_RUN_ID"');
    manager.deliver(run);
    manager.deliver(run);
    const result = await log.next('run.result', 'once1');
    expect(result).toMatchObject({ outcome: 'exited', exit_code: 0, stdout: 'once1\n' });
    expect(log.all('run.started', 'once1')).toHaveLength(1);
    expect(spool.status('once1')).toBe('finished');

    manager.deliver(run);
    expect(log.all('run.result', 'once1')).toEqual([result, result]);
    expect(log.all('run.started', 'once1')).toHaveLength(1);

    manager.acknowledge('once1');
    expect(spool.status('once1')).toBe('acked');
    const before = log.messages.length;
    manager.deliver(run);
    expect(log.messages.length).toBe(before);
    expect(readFileSync(join(dir, 'ran.txt'), 'utf8')).toBe('ran\n');
  });

  it('never reruns a run that was in progress when the agent died', async () => {
    const first = harness();
    first.spool.markStarted('cut1', 'job1', new Date().toISOString());
    const second = harness({}, first.dir);
    expect(second.lost.map((r) => r.run_id)).toEqual(['cut1']);
    second.manager.deliver(deliverMessage('cut1', 'echo should-not-run'));
    expect(second.log.all('run.started')).toEqual([]);
    expect(second.log.all('run.result', 'cut1')).toMatchObject([{ outcome: 'lost', error: 'the agent restarted while this run was in progress' }]);
  });

  it('streams output in order with seq from 0 across both streams', async () => {
    const { log, manager } = harness();
    manager.deliver(deliverMessage('out1', 'printf "a\\303"; sleep 0.2; printf "\\251b\\n"; echo e >&2'));
    const result = await log.next('run.result', 'out1');
    const chunks = log.all('run.output', 'out1');
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    expect(
      chunks
        .filter((c) => c.stream === 'stdout')
        .map((c) => c.data)
        .join(''),
    ).toBe('aéb\n');
    expect(
      chunks
        .filter((c) => c.stream === 'stderr')
        .map((c) => c.data)
        .join(''),
    ).toBe('e\n');
    expect(result.stdout).toBe('aéb\n');
  });

  it('sets MUSTER_* itself, and refuses a job environment that tries to', async () => {
    const { log, manager } = harness();
    manager.deliver(deliverMessage('env1', 'echo "$MUSTER_SYSTEM_ID $MUSTER_JOB_ID $MUSTER_SERVER $MINE"', { env: { MINE: 'x' } }));
    expect((await log.next('run.result', 'env1')).stdout).toBe('sys1 job1 http://127.0.0.1:1 x\n');
    manager.deliver(deliverMessage('env2', 'echo "$MUSTER_SYSTEM_ID"', { env: { MUSTER_SYSTEM_ID: 'forged' } }));
    expect(await log.next('run.result', 'env2')).toMatchObject({
      outcome: 'failed_to_start',
      stdout: '',
      error: expect.stringMatching(/sets MUSTER_SYSTEM_ID: MUSTER_\* variables are reserved/),
    });
  });

  it('refuses a run whose environment changes how scripts run: nothing starts, and the result names the variable', async () => {
    const { dir, spool, log, manager } = harness();
    const marker = join(dir, 'hijacked');
    manager.deliver(deliverMessage('deny1', `touch ${join(dir, 'ran')}`, { shell: 'bash', env: { GREETING: 'hi', BASH_ENV: `$(touch ${marker})` } }));
    const result = await log.next('run.result', 'deny1');
    expect(result).toMatchObject({ outcome: 'failed_to_start', started_at: null });
    expect(result.error).toMatch(
      /^the agent refused to run this script: its environment sets BASH_ENV: BASH_ENV changes how the script runs, so a caller may not set it: bash sources/,
    );
    expect(log.all('run.started', 'deny1')).toEqual([]);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(existsSync(marker)).toBe(false);
    // Redelivered: answered from the spool, still not run.
    manager.deliver(deliverMessage('deny1', `touch ${join(dir, 'ran')}`, { shell: 'bash', env: { BASH_ENV: `$(touch ${marker})` } }));
    expect(log.all('run.result', 'deny1')).toEqual([result, result]);
    expect(spool.status('deny1')).toBe('finished');
  });

  it('queues beyond max_concurrency, in order, and cancels a queued run without starting it', async () => {
    const { log, manager } = harness({ maxConcurrency: 1 });
    manager.deliver(deliverMessage('q1', 'echo one; sleep 60'));
    manager.deliver(deliverMessage('q2', 'echo two'));
    manager.deliver(deliverMessage('q3', 'echo three'));
    await log.next('run.started', 'q1');
    expect(manager.activeRunIds()).toEqual(['q1', 'q2', 'q3']);
    expect(log.all('run.started')).toHaveLength(1);
    manager.cancel('q2');
    expect(log.all('run.result', 'q2')).toMatchObject([{ outcome: 'cancelled', started_at: null }]);
    // Cancel q1 once its first line is out, so its result must carry it (started is sent at spawn, before any output).
    await log.next('run.output', 'q1');
    manager.cancel('q1');
    expect(await log.next('run.result', 'q1')).toMatchObject({ outcome: 'cancelled', stdout: 'one\n' });
    expect(await log.next('run.result', 'q3')).toMatchObject({ outcome: 'exited', stdout: 'three\n' });
    expect(log.all('run.started').map((m) => m.run_id)).toEqual(['q1', 'q3']);
  });

  it('on stop, kills running scripts and keeps their results spooled as cancelled', async () => {
    const { spool, log, manager } = harness();
    manager.deliver(deliverMessage('stop1', 'echo up; sleep 60'));
    await log.next('run.output', 'stop1');
    await manager.stopAll();
    expect(spool.result('stop1')).toMatchObject({ outcome: 'cancelled', error: 'the agent was stopped', stdout: 'up\n' });
    manager.deliver(deliverMessage('late1', 'echo no'));
    expect(log.all('run.started', 'late1')).toEqual([]);
  });
});
