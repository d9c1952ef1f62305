import { describe, expect, it } from 'vitest';
import { PreparedEffects } from './prepared.js';
import type { IngestEffect } from './types.js';

const effect = (certname: string): IngestEffect => ({ kind: 'deactivate', certname, producerTimestamp: '2026-11-23T00:00:00.000Z' });

describe('PreparedEffects', () => {
  it('hands a claimed command its payload, then its effect once, and forgets it', () => {
    const p = new PreparedEffects();
    p.put('a', effect('a.example.com'), '{"certname":"a.example.com"}');
    expect(p.claim('a')).toBe('{"certname":"a.example.com"}');
    expect(p.take('a')).toEqual({ effect: effect('a.example.com'), payload: '{"certname":"a.example.com"}' });
    expect(p.take('a')).toBeUndefined();
    expect(p.claim('unknown')).toBeUndefined();
    expect(p.size).toBe(0);
  });

  it('drops the oldest unclaimed entries past its size bound, but keeps claimed ones until taken', () => {
    const p = new PreparedEffects(40);
    p.put('a', effect('a'), 'x'.repeat(10));
    p.put('b', effect('b'), 'x'.repeat(10));
    p.claim('a');
    p.put('c', effect('c'), 'x'.repeat(10));
    p.put('d', effect('d'), 'x'.repeat(10));
    p.put('e', effect('e'), 'x'.repeat(10));
    // b was the oldest unclaimed one; a was claimed.
    expect(p.claim('b')).toBeUndefined();
    expect(p.claim('a')).toBe('x'.repeat(10));
    expect(['c', 'd', 'e'].map((id) => p.claim(id) !== undefined)).toEqual([true, true, true]);
    // A payload of more than a quarter of the bound is not kept at all.
    p.put('big', effect('big'), 'x'.repeat(11));
    expect(p.claim('big')).toBeUndefined();
  });

  it('drops entries past their age, claimed or not', () => {
    let now = 0;
    const p = new PreparedEffects(1000, 100, () => now);
    p.put('a', effect('a'), 'x');
    p.claim('a');
    p.put('b', effect('b'), 'x');
    now = 150;
    p.put('c', effect('c'), 'x');
    expect(p.take('a')).toBeUndefined();
    expect(p.take('b')).toBeUndefined();
    expect(p.take('c')).toBeDefined();
  });

  it('forgets a dropped command', () => {
    const p = new PreparedEffects();
    p.put('a', effect('a'), 'x');
    p.drop('a');
    expect(p.claim('a')).toBeUndefined();
    expect(p.size).toBe(0);
  });
});
