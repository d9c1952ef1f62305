import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { collectFacts } from './facts.js';

describe('collectFacts interfaces', () => {
  it('names the interface of every address it reports, as the machine knows it', () => {
    const facts = collectFacts();
    expect(facts.interfaces?.map((i) => i.address)).toEqual(facts.ip_addresses);
    const known = Object.entries(networkInterfaces()).flatMap(([name, list]) => (list ?? []).filter((a) => !a.internal).map((a) => `${name} ${a.address}`));
    for (const i of facts.interfaces ?? []) expect(known).toContain(`${i.name} ${i.address}`);
  });
});
