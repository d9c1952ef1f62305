import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPublicKey, coreFixture, FACTS, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import type { SystemPrincipal } from './index.js';

describe.each(DATABASES)('systems inventory on $name', ({ name, skip }) => {
  let f: CoreFixture;
  let a: string;
  let b: string;
  let self: SystemPrincipal;
  beforeAll(async () => {
    if (skip) return;
    f = await coreFixture(name);
    a = (await f.core.systems.enroll(f.enrollmentKey, { public_key: agentPublicKey(), facts: { ...FACTS, hostname: 'alpha' } }, '203.0.113.7')).id;
    b = (await f.core.systems.enroll(f.enrollmentKey, { public_key: agentPublicKey(), facts: { ...FACTS, hostname: 'beta' }, tags: ['db'] }, null)).id;
    self = { kind: 'system', systemId: a, organizationId: f.admin.organizationId };
  });
  afterAll(async () => f?.close());

  it.skipIf(skip)('queries with filters, sort and paging in the database', async () => {
    const page = await f.core.systems.query(f.admin, { filters: [], sort: [{ field: 'hostname', desc: true }], skip: 0, limit: 1 });
    expect(page.total).toBe(2);
    expect(page.items.map((s) => s.hostname)).toEqual(['beta']);
    const tagged = await f.core.systems.query(f.admin, { filters: [{ field: 'tags', op: 'eq', values: ['db'] }], sort: [], skip: 0, limit: 10 });
    expect(tagged.items.map((s) => s.id)).toEqual([b]);
    const some = await f.core.systems.query(f.admin, { filters: [{ field: 'hostname', op: 'in', values: ['alpha', 'gamma'] }], sort: [], skip: 0, limit: 10 });
    expect(some.items.map((s) => s.id)).toEqual([a]);
    await expect(f.core.systems.query(f.admin, { filters: [], sort: [], skip: -1, limit: 10 })).rejects.toMatchObject({ field: 'skip' });
  });

  it.skipIf(skip)("a system changes its own record only; facts and contact stay the agent's", async () => {
    const changed = await f.core.systems.update(self, a, { displayName: 'Alpha', tags: ['web'], attributes: { rack: 'r1' } });
    expect(changed).toMatchObject({ displayName: 'Alpha', tags: ['web'], attributes: { rack: 'r1' }, hostname: 'alpha' });
    await expect(f.core.systems.update(self, b, { displayName: 'x' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(f.core.systems.get(self, b)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(f.core.systems.update(self, a, { lastContact: 'now' }, { lastContact: 'lastContact' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'lastContact',
    });
    expect((await f.core.systems.list(f.admin, 'tag:web and ip:203.0.113')).map((s) => s.id)).toEqual([a]);
  });

  it.skipIf(skip)('stores periodically reported facts', async () => {
    await f.core.systems.agentFacts(b, { ...FACTS, hostname: 'beta', os_release: 'Debian GNU/Linux 13', cpus: 8, ip_addresses: ['10.1.2.3'] }, '198.51.100.1');
    const got = await f.core.systems.get(f.admin, b);
    expect(got).toMatchObject({ osRelease: 'Debian GNU/Linux 13', ipAddresses: ['10.1.2.3'], publicIp: '198.51.100.1' });
    expect(got.facts.cpus).toBe(8);
  });

  it.skipIf(skip)('a system deletes itself; listeners hear of it; another system cannot', async () => {
    const removed: string[] = [];
    f.core.systems.onRemoved((id) => removed.push(id));
    await expect(f.core.systems.remove(self, b)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await f.core.systems.remove(self, a);
    expect(removed).toEqual([a]);
    expect(await f.core.systems.credentialsFor(a)).toBeUndefined();
    await expect(f.core.systems.remove(f.admin, a)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
