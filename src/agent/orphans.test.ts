import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { groupState, leftoverNote, OrphanReaper, processStart } from './orphans.js';

/**
 * A detached `sh` that starts a background sleep and waits: a process group of two, like a script.
 * It prints `ready` once its setup (a trap, say) is in place, and the helper waits for that line.
 */
async function group(setup = '') {
  const child = spawn('sh', ['-c', `${setup}\nsleep 60 & echo ready; wait; wait`], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  await once(child.stdout!, 'data');
  return { child, record: { pid: child.pid!, start: processStart(child.pid!) ?? null } };
}

describe('orphaned process groups', () => {
  it('knows its own process by its start time', () => {
    expect(processStart(process.pid)).toMatch(/\S/);
    expect(processStart(2 ** 22 + 1)).toBeUndefined();
  });

  it('tells a running group from a reused pid and from one that is gone', async () => {
    const { child, record } = await group();
    expect(groupState(record)).toBe('running');
    expect(groupState({ ...record, start: 'another start' })).toBe('reused');
    expect(groupState({ ...record, start: null })).toBe('reused');
    process.kill(-record.pid, 'SIGKILL');
    await once(child, 'exit');
    expect(groupState(record)).toBe('gone');
  });

  it('stops a group with SIGTERM, and with SIGKILL what ignores it', async () => {
    const polite = await group();
    const stubborn = await group("trap '' TERM");
    const reaper = new OrphanReaper(200);
    expect(reaper.terminate(polite.record)).toBe('running');
    await once(polite.child, 'exit');
    expect(reaper.terminate(stubborn.record)).toBe('running');
    const [, signal] = await once(stubborn.child, 'exit');
    expect(signal).toBe('SIGKILL');
    reaper.stop();
  });

  it('says in words what it did', () => {
    expect(leftoverNote('running', { pid: 42, start: '1' }, 5000)).toBe(
      'its script was still running, so the agent stopped it (process group 42: SIGTERM, then SIGKILL after 5 s)',
    );
    expect(leftoverNote('gone', { pid: 42, start: '1' }, 5000)).toMatch(/already ended/);
  });
});
