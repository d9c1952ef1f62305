import { describe, expect, it } from 'vitest';
import { chunks } from './chunks.js';

describe('chunks', () => {
  it('splits into full chunks, then the rest in powers of two, keeping every item once and in order', () => {
    const items = Array.from({ length: 237 }, (_, i) => i);
    const parts = chunks(items, 100);
    expect(parts.map((p) => p.length)).toEqual([100, 100, 32, 4, 1]);
    expect(parts.flat()).toEqual(items);
    expect(chunks([], 100)).toEqual([]);
    expect(chunks([1, 2, 3], 100).map((p) => p.length)).toEqual([2, 1]);
    expect(chunks(Array.from({ length: 1000 }, (_, i) => i)).map((p) => p.length)).toEqual([500, 500]);
  });

  it('draws row counts from at most a dozen sizes, whatever the list length', () => {
    const sizes = new Set<number>();
    for (let n = 0; n <= 1000; n++) for (const p of chunks(Array.from({ length: n }), 200)) sizes.add(p.length);
    expect([...sizes].sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 200]);
  });
});
