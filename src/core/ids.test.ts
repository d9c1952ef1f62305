import { describe, expect, it } from 'vitest';
import { uuidV7 } from './ids.js';

describe('uuidV7', () => {
  it('is a version 7, RFC 9562 variant UUID carrying the time it was made', () => {
    const at = Date.UTC(2026, 10, 23, 21, 30);
    const id = uuidV7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace('-', '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts in the order ids were made, within one millisecond and past 4,096 of them', () => {
    const at = Date.UTC(2030, 0, 1);
    const ids = Array.from({ length: 10_000 }, () => uuidV7(at));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // The clock going back does not break the order either.
    const later = uuidV7(at - 5);
    expect(later > ids.at(-1)!).toBe(true);
  });
});
