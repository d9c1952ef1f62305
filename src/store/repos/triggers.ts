import type { Kysely, Selectable } from 'kysely';
import type { TriggerRecord, TriggerStore } from '../../core/commands/index.js';
import type { Schema, TriggerTable } from '../schema.js';

function toRecord(row: Selectable<TriggerTable>): TriggerRecord {
  return { id: row.id, organizationId: row.organization_id, name: row.name, secret: row.secret, createdAt: row.created_at, createdBy: row.created_by };
}

/** Triggers and trigger-call idempotency keys on Kysely. */
export function triggerStore(db: Kysely<Schema>): TriggerStore {
  let lastSweep = 0;
  const keyWhere = (k: { organizationId: string; triggerName: string; idempotencyKey: string }) =>
    db.updateTable('trigger_calls').where('organization_id', '=', k.organizationId).where('trigger_name', '=', k.triggerName).where('idempotency_key', '=', k.idempotencyKey);
  return {
    async insertTrigger(t) {
      const r = await db
        .insertInto('triggers')
        .values({ id: t.id, organization_id: t.organizationId, name: t.name, secret: t.secret, created_at: t.createdAt, created_by: t.createdBy })
        .onConflict((oc) => oc.columns(['organization_id', 'name']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async listTriggers(organizationId) {
      return (await db.selectFrom('triggers').selectAll().where('organization_id', '=', organizationId).orderBy('name').execute()).map(toRecord);
    },
    async getTrigger(organizationId, name) {
      const row = await db.selectFrom('triggers').selectAll().where('organization_id', '=', organizationId).where('name', '=', name).executeTakeFirst();
      return row && toRecord(row);
    },
    async triggersWithSecret(name) {
      return (await db.selectFrom('triggers').selectAll().where('name', '=', name).where('secret', 'is not', null).execute()).map(toRecord);
    },
    async setSecret(organizationId, name, secret) {
      const r = await db.updateTable('triggers').set({ secret }).where('organization_id', '=', organizationId).where('name', '=', name).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async deleteTrigger(organizationId, name) {
      const r = await db.deleteFrom('triggers').where('organization_id', '=', organizationId).where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
    async claimCall(k, now, expiresAt) {
      // Expired keys are swept at most once a minute, not on every call.
      if (Date.now() - lastSweep > 60_000) {
        lastSweep = Date.now();
        await db.deleteFrom('trigger_calls').where('expires_at', '<', now).execute();
      }
      // An expired key still in the table (not yet swept) is released first, so it can be claimed again.
      await db.deleteFrom('trigger_calls').where('organization_id', '=', k.organizationId).where('trigger_name', '=', k.triggerName)
        .where('idempotency_key', '=', k.idempotencyKey).where('expires_at', '<', now).execute();
      const r = await db
        .insertInto('trigger_calls')
        .values({ organization_id: k.organizationId, trigger_name: k.triggerName, idempotency_key: k.idempotencyKey, result: null, created_at: now, expires_at: expiresAt })
        .onConflict((oc) => oc.columns(['organization_id', 'trigger_name', 'idempotency_key']).doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0) === 1) return { claimed: true };
      const row = await db.selectFrom('trigger_calls').select('result').where('organization_id', '=', k.organizationId).where('trigger_name', '=', k.triggerName)
        .where('idempotency_key', '=', k.idempotencyKey).executeTakeFirst();
      return { claimed: false, result: row?.result ?? null };
    },
    async storeCallResult(k, result) {
      await keyWhere(k).set({ result }).execute();
    },
    async releaseCall(k) {
      await db.deleteFrom('trigger_calls').where('organization_id', '=', k.organizationId).where('trigger_name', '=', k.triggerName).where('idempotency_key', '=', k.idempotencyKey).execute();
    },
  };
}
