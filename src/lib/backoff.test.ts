import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('grows exponentially and is capped', () => {
    const top = () => 1;
    expect(backoffDelay(0, { baseMs: 100, maxMs: 10_000, random: top })).toBe(100);
    expect(backoffDelay(3, { baseMs: 100, maxMs: 10_000, random: top })).toBe(800);
    expect(backoffDelay(30, { baseMs: 100, maxMs: 10_000, random: top })).toBe(10_000);
  });

  it('jitters between a tenth of the ceiling and the ceiling', () => {
    const low = backoffDelay(4, { baseMs: 100, maxMs: 10_000, random: () => 0 });
    expect(low).toBe(160);
  });

  it('resets after a success', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 10_000, random: () => 1 });
    b.next();
    b.next();
    expect(b.next()).toBe(400);
    b.reset();
    expect(b.next()).toBe(100);
  });
});
