import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coreFixture, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import { uuidV7 } from '../../core/ids.js';
import type { DeliveryRecord, WebhookStore } from '../../core/webhooks/index.js';
import { ephemeralKeyring } from '../../lib/secret-box.js';
import { createStores, type Database } from '../index.js';

describe.each(DATABASES)('the webhook outbox on $name', ({ name, skip }) => {
  const secrets = ephemeralKeyring();
  let f: CoreFixture;
  let other: Database | undefined;
  beforeEach(async () => {
    if (!skip) f = await coreFixture(name, { secrets });
  });
  afterEach(async () => {
    if (skip) return;
    await other?.close();
    other = undefined;
    await f.close();
  });

  async function outbox(n: number): Promise<{ webhookId: string; ids: string[] }> {
    const hook = await f.core.webhooks.create(f.admin, { url: 'https://hooks.example.com/', events: ['run.failed'] });
    const at = f.clock.now().toISOString();
    const rows: DeliveryRecord[] = Array.from({ length: n }, () => {
      const id = uuidV7();
      return {
        id,
        webhookId: hook.id,
        organizationId: f.admin.organizationId,
        event: 'run.failed',
        body: JSON.stringify({ id }),
        state: 'pending',
        attempts: 0,
        createdAt: at,
        nextAttemptAt: at,
        retryUntil: new Date(Date.parse(at) + 3600_000).toISOString(),
        deliveredAt: null,
        lastStatus: null,
        lastError: null,
      };
    });
    await f.stores.webhooks.insertDeliveries(rows);
    return { webhookId: hook.id, ids: rows.map((r) => r.id) };
  }

  /** Claims until nothing is due, as one replica's worker would. */
  async function drain(store: WebhookStore, now: string): Promise<string[]> {
    const got: string[] = [];
    for (;;) {
      const claimed = await store.claimDue({ limit: 7, now, leaseUntil: new Date(Date.parse(now) + 60_000).toISOString() });
      if (claimed.length === 0) return got;
      got.push(...claimed.map((c) => c.delivery.id));
    }
  }

  it.skipIf(skip)('two claimers at once (replicas on PostgreSQL) take every due delivery exactly once', async () => {
    const { ids } = await outbox(300);
    // PostgreSQL: a second connection pool over the same database, as another replica has. SQLite has one process: two loops in it.
    other = f.database.capabilities.supportsReplicas ? f.test.open() : undefined;
    const replica = other ? createStores(other, { secrets }).webhooks : f.stores.webhooks;
    const now = f.clock.now().toISOString();
    const [a, b] = await Promise.all([drain(f.stores.webhooks, now), drain(replica, now)]);
    expect([...a, ...b].sort()).toEqual([...ids].sort());
    expect(new Set([...a, ...b]).size).toBe(ids.length);
  });

  it.skipIf(skip)('reclaims a delivery whose lease expired, and keeps only the newer claim’s attempt', async () => {
    const { webhookId, ids } = await outbox(1);
    const store = f.stores.webhooks;
    const t0 = f.clock.now();
    const [first] = await store.claimDue({ limit: 5, now: t0.toISOString(), leaseUntil: new Date(t0.getTime() + 1000).toISOString() });
    expect(first).toMatchObject({ delivery: { id: ids[0], state: 'sending', attempts: 1 }, webhook: { url: 'https://hooks.example.com/', enabled: true } });
    expect(await store.claimDue({ limit: 5, now: new Date(t0.getTime() + 500).toISOString(), leaseUntil: t0.toISOString() })).toEqual([]);
    const later = new Date(t0.getTime() + 2000);
    const [second] = await store.claimDue({ limit: 5, now: later.toISOString(), leaseUntil: new Date(later.getTime() + 60_000).toISOString() });
    expect(second!.delivery.attempts).toBe(2);
    const attempt = (seq: number) => ({
      deliveryId: ids[0]!,
      seq,
      startedAt: later.toISOString(),
      durationMs: 5,
      status: 200,
      responseBody: 'ok',
      error: null,
    });
    // The first claim's attempt ends late: its lease was taken over, so it changes nothing.
    await store.recordAttempt(attempt(1), { state: 'delivered', at: later.toISOString() });
    expect((await store.getDelivery(f.admin.organizationId, webhookId, ids[0]!))!.state).toBe('sending');
    await store.recordAttempt(attempt(2), { state: 'delivered', at: later.toISOString() });
    const [logged] = await store.listDeliveries(f.admin.organizationId, webhookId, 10);
    expect(logged).toMatchObject({ state: 'delivered', attempts: 2, lastStatus: 200 });
    expect(logged!.attemptLog.map((a) => a.seq)).toEqual([2]);
    // Pruning takes finished deliveries last due before the cut, and their attempts.
    expect(await store.pruneDeliveries(t0.toISOString())).toBe(0);
    expect(await store.pruneDeliveries('9999-01-01T00:00:00.000Z')).toBe(1);
    expect(await f.database.db.selectFrom('webhook_attempts').selectAll().execute()).toEqual([]);
    // Deleting the webhook takes its outbox and log with it.
    expect(await store.deleteWebhook(f.admin.organizationId, webhookId)).toBe(true);
    expect(await store.listDeliveries(f.admin.organizationId, webhookId, 10)).toEqual([]);
  });

  it.skipIf(skip)('pages the log newest first by cursor', async () => {
    const { webhookId, ids } = await outbox(5);
    const first = await f.core.webhooks.deliveries(f.admin, webhookId, { limit: 2 });
    expect(first.items.map((d) => d.id)).toEqual([ids[4], ids[3]]);
    const second = await f.core.webhooks.deliveries(f.admin, webhookId, { limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((d) => d.id)).toEqual([ids[2], ids[1]]);
    const last = await f.core.webhooks.deliveries(f.admin, webhookId, { limit: 2, cursor: second.nextCursor! });
    expect(last).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
    // Pending deliveries are never pruned.
    expect(await f.stores.webhooks.pruneDeliveries('9999-01-01T00:00:00.000Z')).toBe(0);
    // Deleting the webhook takes its outbox.
    await f.core.webhooks.remove(f.admin, webhookId);
    expect(await f.database.db.selectFrom('webhook_deliveries').selectAll().execute()).toEqual([]);
  });
});
