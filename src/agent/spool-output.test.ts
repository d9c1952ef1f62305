import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutputSpoolWriter, readSpooledOutput, removeSpooledOutput } from './spool-output.js';

const dir = () => mkdtempSync(join(tmpdir(), 'muster-spool-out-'));

describe('spooled output', () => {
  it('keeps each stream as it arrives, readable after the writer is gone', () => {
    const d = dir();
    const w = new OutputSpoolWriter(d, 'r1', 1024, () => undefined);
    w.write('stdout', Buffer.from('start\n'));
    w.write('stderr', Buffer.from('warn\n'));
    w.write('stdout', Buffer.from('é'.repeat(2)));
    // No close: a killed agent never gets to it.
    expect(readSpooledOutput(d, 'r1', 1024)).toEqual({ stdout: 'start\néé', stderr: 'warn\n', stdout_truncated: false, stderr_truncated: false });
    expect(readSpooledOutput(d, 'none', 1024)).toEqual({ stdout: '', stderr: '', stdout_truncated: false, stderr_truncated: false });
    w.close();
    removeSpooledOutput(d, 'r1');
    expect(readdirSync(d)).toEqual([]);
  });

  it('holds at most twice the cap on disk and reports the tail, truncated', () => {
    const d = dir();
    const w = new OutputSpoolWriter(d, 'r2', 10, () => undefined);
    for (let i = 0; i < 10; i++) w.write('stdout', Buffer.from(`line${i}\n`));
    expect(readdirSync(d).sort()).toEqual(['r2.stdout', 'r2.stdout.1']);
    expect(readSpooledOutput(d, 'r2', 10)).toMatchObject({ stdout: 'ne8\nline9\n', stdout_truncated: true });
  });

  it('stops copying, and says so once, when the disk refuses', () => {
    const errors: Error[] = [];
    const w = new OutputSpoolWriter(join(dir(), 'missing'), 'r3', 1024, (err) => errors.push(err));
    w.write('stdout', Buffer.from('a'));
    w.write('stdout', Buffer.from('b'));
    expect(errors).toHaveLength(1);
  });
});
