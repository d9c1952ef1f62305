import { getHeapStatistics, setFlagsFromString } from 'node:v8';

const MiB = 1024 * 1024;

export interface HeapGrowthOptions {
  /** Growth between full collections while the heap is small, in percent (V8's --heap-growing-percent). */
  percent: number;
  /** The heap counts as large above this many bytes in use… */
  largeBytes: number;
  /** …and as small again below this many (hysteresis). */
  smallBytes: number;
  everyMs: number;
  /** Seams for tests. */
  used: () => number;
  set: (flag: string) => void;
}

export const DEFAULT_HEAP_GROWTH: HeapGrowthOptions = {
  percent: 30,
  largeBytes: 128 * MiB,
  smallBytes: 96 * MiB,
  everyMs: 5000,
  used: () => getHeapStatistics().used_heap_size,
  set: setFlagsFromString,
};

/**
 * How far V8 lets the old generation grow between full collections, by heap
 * size. With a small heap (a server ingesting PuppetDB commands holds 30-60 MB)
 * V8 lets it grow 1.6x, and garbage waiting for the next full collection was
 * most of peak RSS above the live heap; 1.3x keeps ingest's peak RSS within a
 * quarter of PuppetDB's (docs/benchmarks.md). With a large heap (10,000
 * connected agents: 200+ MB) full collections cost more and V8's own factor
 * is kept. V8 reads the flag at every full collection, so it can change while
 * the server runs. Returns a function that stops the checks.
 */
export function tuneHeapGrowth(options: Partial<HeapGrowthOptions> = {}): () => void {
  const o = { ...DEFAULT_HEAP_GROWTH, ...options };
  let small: boolean | undefined;
  const check = () => {
    const used = o.used();
    const now = small === false ? used < o.smallBytes : used < o.largeBytes;
    if (now === small) return;
    small = now;
    o.set(`--heap-growing-percent=${now ? o.percent : 0}`);
  };
  check();
  const timer = setInterval(check, o.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
