import { describe, expect, it } from 'vitest';
import { jsonDepth, MAX_PAYLOAD_DEPTH, tooDeepMessage } from './depth.js';

describe('jsonDepth', () => {
  it.each([
    ['1', 0],
    ['"a[b{c"', 0],
    ['{}', 1],
    ['{"a": 1}', 1],
    ['[[], {}]', 2],
    ['{"a": {"b": [1, {"c": null}]}}', 4],
    ['{"a": "]]]}}}", "b": [["\\"[["]]}', 3],
    ['{"esc": "\\\\", "x": [1]}', 2],
    ['[[[', 3],
    ['["abc', 1],
    ['["a\\\\\\"]"], [[', 2],
  ])('%s nests %i levels', (text, depth) => {
    expect(jsonDepth(text)).toBe(depth);
  });

  it('measures 100,000 levels without recursion, and stops early when asked', () => {
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    expect(jsonDepth(deep)).toBe(100_000);
    expect(jsonDepth(deep, MAX_PAYLOAD_DEPTH)).toBe(MAX_PAYLOAD_DEPTH + 1);
  });

  it('names the limit in its refusal', () => {
    expect(tooDeepMessage()).toContain(String(MAX_PAYLOAD_DEPTH));
  });
});
