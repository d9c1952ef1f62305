import { hostname, networkInterfaces } from 'node:os';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { AgentFacts } from '../protocol/messages.js';
import { VERSION } from '../version.js';
import { collectFacts } from './facts.js';

describe('collectFacts', () => {
  it('reports this machine in the protocol’s shape', () => {
    const facts = collectFacts();
    expect(Compile(AgentFacts).Check(facts)).toBe(true);
    expect(facts).toMatchObject({ hostname: hostname(), os: process.platform, arch: process.arch, agent_version: VERSION });
    const internal = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => a.internal).map((a) => a.address));
    for (const address of internal) expect(facts.ip_addresses).not.toContain(address);
  });
});
