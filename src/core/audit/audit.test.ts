import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/core.js';
import { DATABASES, openMigrated, type TestDatabase } from '../../../test/support/databases.js';
import { createStores, type Database } from '../../store/index.js';
import type { Actor } from '../access/index.js';
import { newId } from '../ids.js';
import { AuditService, AuditSweeper, requestStampingSink, runInRequest, type AuditRecord, type AuditStore } from './index.js';

const DAY = 86_400_000;

describe.each(DATABASES)('the audit log on $name', ({ name, skip }) => {
  let database: Database;
  let test: TestDatabase;
  let store: AuditStore;
  let audit: AuditService;
  const clock = new FakeClock();
  const org = (role: Actor['role'] = 'admin'): Actor => ({ organizationId: 'org-a', role, label: `api_key:${role}` });
  const other: Actor = { organizationId: 'org-b', role: 'admin', label: 'api_key:b' };
  const sink = () => requestStampingSink(store);
  const write = (actor: Actor, action: string, targetId = 't1', targetType = 'thing') =>
    sink().record({ organizationId: actor.organizationId, actor: actor.label, action, targetType, targetId }, clock.now());
  const all = async (actor: Actor, query: Parameters<AuditService['list']>[1] = {}) => {
    const seen: AuditRecord[] = [];
    for await (const e of await audit.export(actor, query)) seen.push(e);
    return seen;
  };

  beforeAll(async () => {
    if (skip) return;
    ({ database, test } = await openMigrated(name));
    const stores = createStores(database);
    store = stores.audit;
    // Retention sweeps organization by organization: the ones these events name exist.
    for (const id of ['org-a', 'org-b', 'org-r'])
      await stores.organizations.insertOrganization({ id, slug: id, name: id, createdAt: clock.now().toISOString() });
    audit = new AuditService(store, sink(), clock);
  });
  afterAll(async () => {
    if (skip) return;
    await database.close();
    await test.drop();
  });

  it.skipIf(skip)('stamps each event with the request it was written in, and null outside one', async () => {
    await runInRequest({ requestId: 'req-1', sourceIp: '203.0.113.9' }, () => write(org(), 'thing.stamp'));
    clock.advance(1);
    await write(org(), 'thing.unstamped');
    const [unstamped, stamped] = (await audit.list(org(), { action: 'thing.' })).items;
    expect(stamped).toMatchObject({ action: 'thing.stamp', requestId: 'req-1', sourceIp: '203.0.113.9' });
    expect(unstamped).toMatchObject({ action: 'thing.unstamped', requestId: null, sourceIp: null });
    expect((await audit.list(org(), { requestId: 'req-1' })).items.map((e) => e.action)).toEqual(['thing.stamp']);
  });

  it.skipIf(skip)("filters by actor, action (exact or prefix), target and time, within the caller's organization only", async () => {
    clock.advance(1000);
    const start = clock.now().toISOString();
    clock.advance(1000);
    await write(org(), 'api_key.create', 'k1', 'api_key');
    clock.advance(1000);
    await write(org('operator'), 'job.launch', 'j1', 'job');
    clock.advance(1000);
    await write(org(), 'job.cancel', 'j1', 'job');
    await write(other, 'job.launch', 'j9', 'job');
    const mid = new Date(clock.now().getTime() - 500).toISOString();
    const actions = async (q: Parameters<AuditService['list']>[1]) => (await audit.list(org(), { since: start, ...q })).items.map((e) => e.action);
    expect(await actions({})).toEqual(['job.cancel', 'job.launch', 'api_key.create']);
    expect(await actions({ action: 'job.' })).toEqual(['job.cancel', 'job.launch']);
    expect(await actions({ action: 'job.*' })).toEqual(['job.cancel', 'job.launch']);
    // `_` is no wildcard: the prefix is compared as text.
    expect(await actions({ action: 'api_key.' })).toEqual(['api_key.create']);
    expect(await actions({ action: 'api?key.' })).toEqual([]);
    expect(await actions({ action: 'job' })).toEqual([]);
    expect(await actions({ actor: 'api_key:operator' })).toEqual(['job.launch']);
    expect(await actions({ targetType: 'job', targetId: 'j1' })).toEqual(['job.cancel', 'job.launch']);
    expect(await actions({ since: mid })).toEqual(['job.cancel']);
    expect(await actions({ until: mid })).toEqual(['job.launch', 'api_key.create']);
    expect((await audit.list(other, { since: start })).items.map((e) => e.targetId)).toEqual(['j9']);
  });

  it.skipIf(skip)('refuses bad filters, bad cursors and non-admins', async () => {
    await expect(audit.list(org('operator'), {})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(audit.export(org('viewer'), {})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(audit.list(org(), { since: 'yesterday' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'since' });
    await expect(audit.list(org(), { since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' })).rejects.toMatchObject({ field: 'until' });
    await expect(audit.list(org(), { limit: 0 })).rejects.toMatchObject({ field: 'limit' });
    await expect(audit.list(org(), { limit: 1001 })).rejects.toMatchObject({ field: 'limit' });
    await expect(audit.list(org(), { cursor: 'bm9wZQ' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'cursor' });
    await expect(audit.export(org(), { cursor: '!!' })).rejects.toMatchObject({ field: 'cursor' });
  });

  it.skipIf(skip)('pages newest first with no event twice or missing while new events arrive, ties in time included', async () => {
    const pager: Actor = { organizationId: `org-${newId()}`, role: 'admin', label: 'api_key:p' };
    // 25 events in 5 instants: a cursor on time alone would skip or repeat some.
    for (let i = 0; i < 25; i++) {
      if (i % 5 === 0) clock.advance(10);
      await write(pager, 'page.old', `e${i}`);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; ; page++) {
      const got = await audit.list(pager, { limit: 4, ...(cursor ? { cursor } : {}) });
      seen.push(...got.items.map((e) => e.targetId));
      // Written between pages: newer than every page, so never in them.
      clock.advance(1);
      await write(pager, 'page.new', `n${page}`);
      if (!got.nextCursor) break;
      cursor = got.nextCursor;
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect(seen.every((id) => id.startsWith('e'))).toBe(true);
    const exported = await all(pager, { action: 'page.old' });
    expect(exported.map((e) => e.targetId)).toEqual(seen);
    expect((await all(pager, { action: 'page.old', limit: 7 })).map((e) => e.targetId)).toEqual(seen.slice(0, 7));
  });

  it.skipIf(skip)('exports more than a page of reads as one stream', async () => {
    const big: Actor = { organizationId: `org-${newId()}`, role: 'admin', label: 'api_key:big' };
    await store.recordMany(
      Array.from({ length: 1203 }, (_, i) => ({
        event: { organizationId: big.organizationId, actor: big.label, action: 'bulk.write', targetType: 'thing', targetId: `b${i}` },
        at: new Date(clock.now().getTime() + i),
      })),
    );
    const exported = await all(big);
    expect(exported).toHaveLength(1203);
    expect(exported[0]!.targetId).toBe('b1202');
    expect(exported.at(-1)!.targetId).toBe('b0');
  });

  it.skipIf(skip)('retention deletes events past the configured age in bounded batches, and 0 keeps everything', async () => {
    const kept: Actor = { organizationId: 'org-r', role: 'admin', label: 'api_key:r' };
    const swept = new FakeClock(new Date('2030-01-01T00:00:00.000Z'));
    const at = (daysAgo: number) => new Date(swept.now().getTime() - daysAgo * DAY);
    await store.recordMany(
      [400, 366, 365.5, 360, 0].map((d, i) => ({
        event: { organizationId: kept.organizationId, actor: kept.label, action: 'old.event', targetType: 'thing', targetId: `d${i}` },
        at: at(d),
      })),
    );
    const forever = new AuditSweeper(store, swept, { retentionDays: 0, intervalMs: 1000, batch: 2 });
    expect(await forever.sweepOnce()).toBe(0);
    // Everything older than a year in every organization: the other tests' events (dated 2026) too, two rows a statement.
    const sweeper = new AuditSweeper(store, swept, { retentionDays: 365, intervalMs: 1000, batch: 2 });
    expect(await sweeper.sweepOnce()).toBeGreaterThanOrEqual(3);
    expect((await all(kept)).map((e) => e.targetId)).toEqual(['d4', 'd3']);
    expect(await all(org())).toEqual([]);
    swept.advance(6 * DAY);
    await sweeper.sweepOnce();
    expect((await all(kept)).map((e) => e.targetId)).toEqual(['d4']);
  });
});
