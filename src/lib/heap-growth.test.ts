import { afterEach, describe, expect, it, vi } from 'vitest';
import { tuneHeapGrowth } from './heap-growth.js';

const MiB = 1024 * 1024;

describe('tuneHeapGrowth', () => {
  afterEach(() => vi.useRealTimers());

  it('slows heap growth while the heap is small, restores V8’s own above the threshold, with hysteresis', () => {
    vi.useFakeTimers();
    let used = 40 * MiB;
    const set: string[] = [];
    const stop = tuneHeapGrowth({ used: () => used, set: (f) => set.push(f), everyMs: 1000 });
    expect(set).toEqual(['--heap-growing-percent=30']);
    used = 120 * MiB; // between the two thresholds: still small
    vi.advanceTimersByTime(1000);
    expect(set).toHaveLength(1);
    used = 200 * MiB;
    vi.advanceTimersByTime(1000);
    expect(set.at(-1)).toBe('--heap-growing-percent=0');
    used = 110 * MiB; // back between the thresholds: still large
    vi.advanceTimersByTime(1000);
    expect(set).toHaveLength(2);
    used = 60 * MiB;
    vi.advanceTimersByTime(1000);
    expect(set).toEqual(['--heap-growing-percent=30', '--heap-growing-percent=0', '--heap-growing-percent=30']);
    stop();
    used = 500 * MiB;
    vi.advanceTimersByTime(5000);
    expect(set).toHaveLength(3);
  });
});
