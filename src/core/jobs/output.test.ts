import { describe, expect, it } from 'vitest';
import { capTail } from './output.js';

describe('capTail', () => {
  it('keeps short output whole', () => {
    expect(capTail('hello', 10)).toEqual({ text: 'hello', truncated: false });
  });

  it('keeps the tail and flags truncation', () => {
    expect(capTail('0123456789', 4)).toEqual({ text: '6789', truncated: true });
  });

  it('never splits a multi-byte character', () => {
    // "é" is two bytes; a 3-byte cap over "aéé" (5 bytes) must not start mid-character.
    const { text, truncated } = capTail('aéé', 3);
    expect(truncated).toBe(true);
    expect(text).toBe('é');
  });
});
