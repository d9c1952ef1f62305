import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPublicKey, coreFixture, FACTS, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';

const LEASE_MS = 90_000;
const A = { replicaId: 'replica-a', leaseMs: LEASE_MS };
const B = { replicaId: 'replica-b', leaseMs: LEASE_MS };

describe.each(DATABASES)('presence leases on $name', ({ name, skip }) => {
  let f: CoreFixture;
  let id: string;
  const connected = async () => (await f.core.systems.get(f.admin, id)).connected;
  const listedAs = async (value: 'true' | 'false') =>
    (await f.core.systems.query(f.admin, { filters: [{ field: 'connected', op: 'eq', values: [value] }], sort: [], skip: 0, limit: 10 })).items.map(
      (s) => s.id,
    );

  beforeAll(async () => {
    if (skip) return;
    f = await coreFixture(name);
    id = (await f.core.systems.enroll(f.enrollmentKey, { public_key: agentPublicKey(), facts: FACTS }, null)).id;
  });
  afterAll(async () => f?.close());

  it.skipIf(skip)('is connected while a replica holds a live lease, and not once it expires unrenewed', async () => {
    expect(await connected()).toBe(false);
    await f.core.systems.agentConnected(id, FACTS, null, A);
    expect(await connected()).toBe(true);
    expect(await listedAs('true')).toEqual([id]);
    expect(await f.core.systems.holders([id])).toEqual(new Map([[id, 'replica-a']]));
    f.clock.advance(LEASE_MS - 1000);
    // Renewal by the holder carries the lease on; another replica's renewal does not touch it.
    await f.core.systems.renewPresence([id], A);
    await f.core.systems.renewPresence([id], B);
    f.clock.advance(LEASE_MS - 1000);
    expect(await connected()).toBe(true);
    expect((await f.core.systems.get(f.admin, id)).presence).toEqual({
      replicaId: 'replica-a',
      expiresAt: new Date(f.clock.now().getTime() + 1000).toISOString(),
    });
    f.clock.advance(1000);
    expect(await connected()).toBe(false);
    expect(await listedAs('true')).toEqual([]);
    expect(await listedAs('false')).toEqual([id]);
    expect(await f.core.systems.holders([id])).toEqual(new Map());
  });

  it.skipIf(skip)('a close seen by the replica the agent left does not end the lease of the one it moved to', async () => {
    await f.core.systems.agentConnected(id, FACTS, null, A);
    await f.core.systems.agentConnected(id, FACTS, null, B);
    await f.core.systems.agentDisconnected(id, 'replica-a');
    expect(await connected()).toBe(true);
    expect(await f.core.systems.holders([id])).toEqual(new Map([[id, 'replica-b']]));
    await f.core.systems.agentDisconnected(id, 'replica-b');
    expect(await connected()).toBe(false);
  });

  it.skipIf(skip)('a replica shutting down releases every lease it holds, and only those', async () => {
    const other = (await f.core.systems.enroll(f.enrollmentKey, { public_key: agentPublicKey(), facts: { ...FACTS, hostname: 'other' } }, null)).id;
    await f.core.systems.agentConnected(id, FACTS, null, A);
    await f.core.systems.agentConnected(other, FACTS, null, B);
    await f.core.systems.releaseReplica('replica-a');
    expect(await connected()).toBe(false);
    expect(await f.core.systems.holders([id, other])).toEqual(new Map([[other, 'replica-b']]));
  });
});
