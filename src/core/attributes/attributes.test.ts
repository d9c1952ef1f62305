import { describe, expect, it } from 'vitest';
import { captured } from './index.js';

describe('captured', () => {
  it("stores the whole output trimmed, or the regex's first group, or its whole first match", () => {
    expect(captured('  version 4.2\n', null)).toBe('version 4.2');
    expect(captured('a=1\nbuild 77\nbuild 78\n', 'build (\\d+)')).toBe('77');
    expect(captured('serial: C02XYZ\n', 'C0\\w+')).toBe('C02XYZ');
  });

  it('stores nothing when the regex does not match, and at most 1024 characters', () => {
    expect(captured('nothing here', 'build (\\d+)')).toBeUndefined();
    expect(captured('x'.repeat(5000), null)).toHaveLength(1024);
  });
});
