import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExecResult } from './executor.js';
import { leftoverNote, OrphanReaper, processStart } from './orphans.js';
import { Spool, TOMBSTONE_MS } from './spool.js';

function result(runId: string, finishedAt = '2026-11-23T12:00:01.000Z'): ExecResult {
  return {
    run_id: runId,
    outcome: 'exited',
    exit_code: 0,
    signal: null,
    started_at: '2026-11-23T12:00:00.000Z',
    finished_at: finishedAt,
    stdout: 'ok\n',
    stderr: '',
    stdout_truncated: false,
    stderr_truncated: false,
    error: null,
  };
}

function spoolDir(): string {
  return mkdtempSync(join(tmpdir(), 'muster-spool-'));
}

describe('Spool', () => {
  it('remembers a run through started, finished and acknowledged', () => {
    const dir = spoolDir();
    const spool = new Spool(dir);
    spool.open();
    expect(spool.status('r1')).toBe('unknown');
    spool.markStarted('r1', 'j1', '2026-11-23T12:00:00.000Z');
    expect(spool.status('r1')).toBe('started');
    expect(JSON.parse(readFileSync(join(dir, 'r1.json'), 'utf8'))).toEqual({
      state: 'started',
      run_id: 'r1',
      job_id: 'j1',
      started_at: '2026-11-23T12:00:00.000Z',
    });
    expect(statSync(join(dir, 'r1.json')).mode & 0o777).toBe(0o600);
    spool.finish(result('r1'));
    expect(spool.status('r1')).toBe('finished');
    expect(JSON.parse(readFileSync(join(dir, 'r1.json'), 'utf8'))).toEqual({ state: 'finished', result: result('r1') });
    expect(spool.pendingResults()).toEqual([result('r1')]);
    spool.acknowledge('r1');
    expect(spool.status('r1')).toBe('acked');
    expect(spool.pendingResults()).toEqual([]);
    expect(readdirSync(dir)).toEqual(['r1.acked']);
  });

  it('keeps finished results across a restart and reports interrupted runs as lost', () => {
    const dir = spoolDir();
    const before = new Spool(dir);
    before.open();
    before.finish(result('done1', '2026-11-23T12:00:05.000Z'));
    before.markStarted('cut1', 'j1', '2026-11-23T12:00:00.000Z');
    // A crash in the middle of a write leaves only a temporary file behind.
    writeFileSync(join(dir, 'half.json.tmp-99999'), '{"state":"fin');
    const after = new Spool(dir, () => Date.parse('2026-11-23T12:10:00.000Z'));
    const lost = after.open();
    expect(lost.map((r) => r.run_id)).toEqual(['cut1']);
    expect(after.result('cut1')).toMatchObject({
      outcome: 'lost',
      started_at: '2026-11-23T12:00:00.000Z',
      error: 'the agent restarted while this run was in progress',
    });
    expect(after.pendingResults().map((r) => r.run_id)).toEqual(['done1', 'cut1']);
    expect(after.status('half')).toBe('unknown');
    expect(readdirSync(dir).sort()).toEqual(['cut1.json', 'done1.json']);
  });

  it('reports what an interrupted run had printed, and stops the processes it left running', async () => {
    const dir = spoolDir();
    const before = new Spool(dir);
    before.open();
    before.markStarted('cut2', 'j1', '2026-11-23T12:00:00.000Z');
    const script = spawn('sh', ['-c', 'sleep 60 & wait'], { detached: true, stdio: 'ignore' });
    await once(script, 'spawn');
    before.markProcess('cut2', { pid: script.pid!, start: processStart(script.pid!) ?? null });
    const copy = before.outputWriter('cut2', () => undefined);
    copy.write('stdout', Buffer.from('start\n'));
    copy.write('stderr', Buffer.from('warn\n'));
    // The agent dies here: nothing is closed, no result is written.
    const reaper = new OrphanReaper(1000);
    const after = new Spool(dir);
    const [lost] = after.open((_id, record) => leftoverNote(reaper.terminate(record), record, 1000));
    expect(lost).toMatchObject({
      run_id: 'cut2',
      outcome: 'lost',
      stdout: 'start\n',
      stderr: 'warn\n',
      error: `the agent restarted while this run was in progress; its script was still running, so the agent stopped it (process group ${script.pid}: SIGTERM, then SIGKILL after 1 s)`,
    });
    expect((await once(script, 'exit'))[1]).toBe('SIGTERM');
    expect(readdirSync(dir)).toEqual(['cut2.json']);
    reaper.stop();
  });

  it('prunes tombstones older than seven days at start-up', () => {
    const dir = spoolDir();
    const spool = new Spool(dir);
    spool.open();
    spool.acknowledge('old1');
    spool.acknowledge('new1');
    const eightDaysAgo = (Date.now() - TOMBSTONE_MS - 86_400_000) / 1000;
    utimesSync(join(dir, 'old1.acked'), eightDaysAgo, eightDaysAgo);
    new Spool(dir).open();
    expect(readdirSync(dir)).toEqual(['new1.acked']);
  });

  it('ignores run ids that are not word characters', () => {
    const spool = new Spool(spoolDir());
    spool.open();
    expect(spool.status('../etc/passwd')).toBe('unknown');
    expect(() => spool.markStarted('../x', 'j1', '2026-11-23T12:00:00.000Z')).toThrow(/refusing/);
  });
});
