import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ago, ProgressLine, table } from './output.js';

describe('table', () => {
  it('aligns columns and leaves the last one unpadded', () => {
    expect(table(['A', 'LONGER'], [['xxxx', 'y']])).toBe('A     LONGER\nxxxx  y');
    expect(
      table(
        ['ID', 'TAGS'],
        [
          ['1', ''],
          ['22', 'web'],
        ],
      ),
    ).toBe('ID  TAGS\n1\n22  web');
  });
});

describe('ago', () => {
  it('describes ages in the largest whole unit', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(ago('2026-11-23T11:59:30Z', now)).toBe('30s ago');
    expect(ago('2026-11-23T11:55:00Z', now)).toBe('5m ago');
    expect(ago('2026-11-23T10:00:00Z', now)).toBe('2h ago');
    expect(ago('2026-11-20T12:00:00Z', now)).toBe('3d ago');
    expect(ago('2026-11-23T12:00:05Z', now)).toBe('0s ago');
    expect(ago(null, now)).toBe('never');
  });
});

describe('ProgressLine', () => {
  const capture = (isTTY: boolean) => {
    const stream = Object.assign(new PassThrough(), { isTTY }) as unknown as NodeJS.WriteStream;
    const written: string[] = [];
    (stream as unknown as PassThrough).on('data', (c: Buffer) => written.push(c.toString()));
    return { stream, written };
  };

  it('rewrites one line on a terminal and clears it', async () => {
    const { stream, written } = capture(true);
    const line = new ProgressLine(stream);
    line.show('1/3 done');
    line.show('2/3 done, 1 failed');
    line.clear();
    line.clear();
    await new Promise((r) => setImmediate(r));
    expect(written.join('')).toBe('\r\x1b[K1/3 done\r\x1b[K2/3 done, 1 failed\r\x1b[K');
  });

  it('writes nothing when not a terminal', async () => {
    const { stream, written } = capture(false);
    const line = new ProgressLine(stream);
    line.show('1/3 done');
    line.clear();
    await new Promise((r) => setImmediate(r));
    expect(written).toEqual([]);
  });
});
