import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import { MusterError } from '../../core/errors.js';
import type { AttemptRecord, DeliveryRecord, DeliveryState, WebhookEventName, WebhookRecord, WebhookStore } from '../../core/webhooks/index.js';
import { sealedKeyId, type SecretKeyring } from '../../lib/secret-box.js';
import { chunks } from '../chunks.js';
import type { DialectCapabilities } from '../dialect.js';
import { insertMany } from '../insert-many.js';
import type { Schema, WebhookAttemptTable, WebhookDeliveryTable, WebhookTable } from '../schema.js';
import { fromJson, toJson } from './json.js';

/** What a sealed signing secret is bound to: its own webhook, so a value copied onto another row does not open. */
export const webhookSecretContext = (webhookId: string) => `webhook:${webhookId}`;

function toDelivery(r: Selectable<WebhookDeliveryTable>): DeliveryRecord {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    organizationId: r.organization_id,
    event: r.event as WebhookEventName,
    body: r.body,
    state: r.state as DeliveryState,
    attempts: Number(r.attempts),
    createdAt: r.created_at,
    nextAttemptAt: r.next_attempt_at,
    retryUntil: r.retry_until,
    deliveredAt: r.delivered_at,
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    lastError: r.last_error,
  };
}

function toAttempt(r: Selectable<WebhookAttemptTable>): AttemptRecord {
  return {
    deliveryId: r.delivery_id,
    seq: Number(r.seq),
    startedAt: r.started_at,
    durationMs: Number(r.duration_ms),
    status: r.status === null ? null : Number(r.status),
    responseBody: r.response_body,
    error: r.error,
  };
}

/**
 * Webhooks, their outbox and delivery log on Kysely. Signing secrets are
 * sealed with `keyring` on the way in and opened on the way out, as trigger
 * secrets are. Claims take due rows with `FOR UPDATE SKIP LOCKED` where the
 * database has it, so replicas never send one delivery at the same time.
 */
export function webhookStore(db: Kysely<Schema>, capabilities: DialectCapabilities, keyring: SecretKeyring): WebhookStore {
  const toWebhook = (r: Selectable<WebhookTable>): WebhookRecord => ({
    id: r.id,
    organizationId: r.organization_id,
    url: r.url,
    events: fromJson<WebhookEventName[]>(r.events, []),
    enabled: Boolean(Number(r.enabled)),
    description: r.description,
    secret: openSecret(keyring, r.id, r.secret),
    createdAt: r.created_at,
    createdBy: r.created_by,
    updatedAt: r.updated_at,
  });
  const row = (w: WebhookRecord) => ({
    url: w.url,
    events: toJson(w.events),
    enabled: w.enabled ? 1 : 0,
    description: w.description,
    secret: keyring.seal(w.secret, webhookSecretContext(w.id)),
    updated_at: w.updatedAt,
  });
  return {
    async insertWebhook(w) {
      await db
        .insertInto('webhooks')
        .values({ id: w.id, organization_id: w.organizationId, created_at: w.createdAt, created_by: w.createdBy, ...row(w) })
        .execute();
    },
    async countWebhooks(organizationId) {
      const r = await db
        .selectFrom('webhooks')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('organization_id', '=', organizationId)
        .executeTakeFirst();
      return Number(r?.n ?? 0);
    },
    async listWebhooks(organizationId) {
      const rows = await db.selectFrom('webhooks').selectAll().where('organization_id', '=', organizationId).orderBy('created_at').orderBy('id').execute();
      return rows.map(toWebhook);
    },
    async getWebhook(organizationId, id) {
      const r = await db.selectFrom('webhooks').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return r && toWebhook(r);
    },
    async updateWebhook(w) {
      const r = await db.updateTable('webhooks').set(row(w)).where('organization_id', '=', w.organizationId).where('id', '=', w.id).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async deleteWebhook(organizationId, id) {
      return db.transaction().execute(async (tx) => {
        const r = await tx.deleteFrom('webhooks').where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
        if (Number(r.numDeletedRows) !== 1) return false;
        await tx
          .deleteFrom('webhook_attempts')
          .where('delivery_id', 'in', (eb) => eb.selectFrom('webhook_deliveries').select('id').where('webhook_id', '=', id))
          .execute();
        await tx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
        return true;
      });
    },
    async enabledWebhooks(organizationIds) {
      const out: WebhookRecord[] = [];
      for (const part of chunks(organizationIds))
        out.push(...(await db.selectFrom('webhooks').selectAll().where('organization_id', 'in', part).where('enabled', '=', 1).execute()).map(toWebhook));
      return out;
    },
    async insertDeliveries(deliveries) {
      if (deliveries.length === 0) return;
      await db.transaction().execute(async (tx) => {
        // 14 columns per row: 200 rows stay under both databases' parameter limits.
        for (const part of chunks(deliveries, 200)) {
          await insertMany(
            tx,
            'webhook_deliveries',
            part.map((d) => ({
              id: d.id,
              webhook_id: d.webhookId,
              organization_id: d.organizationId,
              event: d.event,
              body: d.body,
              state: d.state,
              attempts: d.attempts,
              created_at: d.createdAt,
              next_attempt_at: d.nextAttemptAt,
              retry_until: d.retryUntil,
              lease_until: null,
              delivered_at: null,
              last_status: null,
              last_error: null,
            })),
          );
        }
      });
    },
    async claimDue({ limit, now, leaseUntil }) {
      const rows = await db.transaction().execute(async (tx) => {
        let q = tx
          .selectFrom('webhook_deliveries')
          .select('id')
          .where((eb) =>
            eb.or([
              eb.and([eb('state', '=', 'pending'), eb('next_attempt_at', '<=', now)]),
              eb.and([eb('state', '=', 'sending'), eb('lease_until', '<', now)]),
            ]),
          )
          .orderBy('next_attempt_at')
          .limit(limit);
        if (capabilities.supportsSkipLocked) q = q.forUpdate().skipLocked();
        const ids = (await q.execute()).map((r) => r.id);
        if (ids.length === 0) return [];
        return tx
          .updateTable('webhook_deliveries')
          .set((eb) => ({ state: 'sending', lease_until: leaseUntil, attempts: eb('attempts', '+', 1) }))
          .where('id', 'in', ids)
          .returningAll()
          .execute();
      });
      if (rows.length === 0) return [];
      // One webhook whose secret cannot be opened fails its own deliveries' attempts, not the whole claim.
      const hooks = new Map<string, WebhookRecord | Error>();
      for (const part of chunks([...new Set(rows.map((r) => r.webhook_id))]))
        for (const h of await db.selectFrom('webhooks').selectAll().where('id', 'in', part).execute()) {
          try {
            hooks.set(h.id, toWebhook(h));
          } catch (err) {
            hooks.set(h.id, err as Error);
          }
        }
      return rows.map((r) => {
        const h = hooks.get(r.webhook_id);
        if (h instanceof Error) return { delivery: toDelivery(r), webhook: undefined, problem: h.message };
        return { delivery: toDelivery(r), webhook: h && { url: h.url, secret: h.secret, enabled: h.enabled } };
      });
    },
    async recordAttempt(a, outcome) {
      await db.transaction().execute(async (tx) => {
        const moved = await tx
          .updateTable('webhook_deliveries')
          .set({
            state: outcome.state,
            lease_until: null,
            last_status: a.status,
            last_error: a.error,
            ...(outcome.state === 'delivered' ? { delivered_at: outcome.at } : {}),
            ...(outcome.state === 'pending' ? { next_attempt_at: outcome.nextAttemptAt } : {}),
          })
          .where('id', '=', a.deliveryId)
          .where('state', '=', 'sending')
          .where('attempts', '=', a.seq)
          .executeTakeFirst();
        // A lease that expired mid-attempt was claimed again: that attempt's log counts, not this one's.
        if (Number(moved.numUpdatedRows) !== 1) return;
        await tx
          .insertInto('webhook_attempts')
          .values({
            delivery_id: a.deliveryId,
            seq: a.seq,
            started_at: a.startedAt,
            duration_ms: a.durationMs,
            status: a.status,
            response_body: a.responseBody,
            error: a.error,
          })
          .execute();
      });
    },
    async listDeliveries(organizationId, webhookId, limit, before) {
      let q = db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('webhook_id', '=', webhookId)
        .orderBy('id', 'desc')
        .limit(limit);
      if (before !== undefined) q = q.where('id', '<', before);
      const rows = await q.execute();
      const attempts = new Map<string, AttemptRecord[]>();
      for (const part of chunks(rows.map((r) => r.id)))
        for (const a of await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', part).orderBy('seq').execute()) {
          const list = attempts.get(a.delivery_id) ?? [];
          list.push(toAttempt(a));
          attempts.set(a.delivery_id, list);
        }
      return rows.map((r) => ({ ...toDelivery(r), attemptLog: attempts.get(r.id) ?? [] }));
    },
    async getDelivery(organizationId, webhookId, id) {
      const r = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('webhook_id', '=', webhookId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r && toDelivery(r);
    },
    async pruneDeliveries(before) {
      // Through webhook_deliveries_due (state, next_attempt_at): the last attempt of a finished delivery was due then.
      const old = (eb: ExpressionBuilder<Schema, 'webhook_deliveries'>) =>
        eb.and([eb('state', 'in', ['delivered', 'failed']), eb('next_attempt_at', '<', before)]);
      return db.transaction().execute(async (tx) => {
        await tx
          .deleteFrom('webhook_attempts')
          .where('delivery_id', 'in', (eb) => eb.selectFrom('webhook_deliveries').select('id').where(old))
          .execute();
        const r = await tx.deleteFrom('webhook_deliveries').where(old).executeTakeFirst();
        return Number(r.numDeletedRows);
      });
    },
    async requeueDelivery(id, now, retryUntil) {
      const r = await db
        .updateTable('webhook_deliveries')
        .set({ state: 'pending', next_attempt_at: now, retry_until: retryUntil, lease_until: null })
        .where('id', '=', id)
        .where('state', '!=', 'sending')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
  };
}

/** A stored signing secret in plain text; a value under a key this server lacks is UNAVAILABLE (a configuration fault). */
function openSecret(keyring: SecretKeyring, webhookId: string, stored: string): string {
  if (sealedKeyId(stored) === undefined) return stored;
  try {
    return keyring.open(stored, webhookSecretContext(webhookId));
  } catch (err) {
    throw new MusterError('UNAVAILABLE', `the signing secret of webhook ${webhookId} cannot be opened: ${(err as Error).message}`, { cause: err });
  }
}
