import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreFixture, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import { asNumber } from './index.js';

describe('asNumber', () => {
  it('reads positive integers and their digits, nothing else', () => {
    expect([7, '42', '000123'].map(asNumber)).toEqual([7, 42, 123]);
    expect([0, -1, 1.5, '', '1e3', '12a', 'x', '1234567890123456', null, {}].map(asNumber)).toEqual(Array(10).fill(undefined));
  });
});

describe.each(DATABASES)('integer ids on $name', ({ name, skip }) => {
  let f: CoreFixture;
  beforeAll(async () => {
    if (!skip) f = await coreFixture(name);
  });
  afterAll(async () => f?.close());

  it.skipIf(skip)('numbers entities once, in creation order, stable under concurrent numbering', async () => {
    const groups = [];
    for (const g of ['a', 'b', 'c']) {
      groups.push(await f.core.groups.create(f.admin, { name: g }));
      f.clock.advance(1000);
    }
    const ids = groups.map((g) => g.id);
    const org = f.admin.organizationId;
    const answers = await Promise.all(Array.from({ length: 6 }, () => f.core.numbers.numbers('group', org, ids)));
    for (const a of answers) expect(ids.map((id) => a.get(id))).toEqual([1, 2, 3]);
    const later = await f.core.groups.create(f.admin, { name: 'd' });
    expect(await f.core.numbers.numberOf('group', org, later.id)).toBe(4);
    expect(await f.core.numbers.resolve('group', org, [2, '3', later.id, 99, 'not-an-id'])).toEqual([ids[1], ids[2], later.id, undefined, undefined]);
  });

  it.skipIf(skip)("another organization's numbers name nothing in this one", async () => {
    const other = await f.core.organizations.create(f.admin, { name: 'Other', slug: 'other' });
    const actor = await f.core.keys.authenticate(other.apiKey);
    expect(await f.core.numbers.resolve('group', actor.organizationId, [1, 2])).toEqual([undefined, undefined]);
  });
});
