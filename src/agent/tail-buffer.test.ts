import { describe, expect, it } from 'vitest';
import { TailBuffer } from './tail-buffer.js';

describe('TailBuffer', () => {
  it('keeps everything under the cap', () => {
    const b = new TailBuffer(10);
    b.write(Buffer.from('hello '));
    b.write(Buffer.from('you'));
    expect(b.text()).toBe('hello you');
    expect(b.truncated).toBe(false);
  });

  it('keeps the last bytes and flags truncation', () => {
    const b = new TailBuffer(4);
    for (const part of ['abc', 'def', 'ghi']) b.write(Buffer.from(part));
    expect(b.text()).toBe('fghi');
    expect(b.truncated).toBe(true);
  });

  it('does not start the tail inside a multi-byte character', () => {
    const b = new TailBuffer(3);
    b.write(Buffer.from('xéé'));
    expect(b.text()).toBe('é');
  });
});
