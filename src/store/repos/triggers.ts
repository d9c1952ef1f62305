import type { Kysely, Selectable } from 'kysely';
import type { TriggerRecord, TriggerStore } from '../../core/commands/index.js';
import { MusterError } from '../../core/errors.js';
import { sealedKeyId, type SecretKeyring } from '../../lib/secret-box.js';
import type { Schema, TriggerTable } from '../schema.js';
import { webhookSecretContext } from './webhooks.js';

/** What a sealed secret is bound to: its own trigger, so a value copied onto another row does not open. */
const context = (triggerId: string) => `trigger:${triggerId}`;

/**
 * Triggers and trigger-call idempotency keys on Kysely. Secrets are sealed
 * with `keyring` (lib/secret-box.ts) on the way in and opened on the way out;
 * the column never holds a secret in plain text once sealTriggerSecrets ran.
 */
export function triggerStore(db: Kysely<Schema>, keyring: SecretKeyring): TriggerStore {
  const toRecord = (row: Selectable<TriggerTable>): TriggerRecord => ({
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    secret: row.secret === null ? null : openSecret(keyring, row.id, row.secret),
    createdAt: row.created_at,
    createdBy: row.created_by,
  });
  const seal = (triggerId: string, secret: string | null) => (secret === null ? null : keyring.seal(secret, context(triggerId)));
  let lastSweep = 0;
  const keyWhere = (k: { organizationId: string; triggerName: string; idempotencyKey: string }) =>
    db
      .updateTable('trigger_calls')
      .where('organization_id', '=', k.organizationId)
      .where('trigger_name', '=', k.triggerName)
      .where('idempotency_key', '=', k.idempotencyKey);
  return {
    async insertTrigger(t) {
      const r = await db
        .insertInto('triggers')
        .values({ id: t.id, organization_id: t.organizationId, name: t.name, secret: seal(t.id, t.secret), created_at: t.createdAt, created_by: t.createdBy })
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
      const row = await db.selectFrom('triggers').select('id').where('organization_id', '=', organizationId).where('name', '=', name).executeTakeFirst();
      if (!row) return false;
      const r = await db
        .updateTable('triggers')
        .set({ secret: seal(row.id, secret) })
        .where('id', '=', row.id)
        .executeTakeFirst();
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
      await db
        .deleteFrom('trigger_calls')
        .where('organization_id', '=', k.organizationId)
        .where('trigger_name', '=', k.triggerName)
        .where('idempotency_key', '=', k.idempotencyKey)
        .where('expires_at', '<', now)
        .execute();
      const r = await db
        .insertInto('trigger_calls')
        .values({
          organization_id: k.organizationId,
          trigger_name: k.triggerName,
          idempotency_key: k.idempotencyKey,
          result: null,
          created_at: now,
          expires_at: expiresAt,
        })
        .onConflict((oc) => oc.columns(['organization_id', 'trigger_name', 'idempotency_key']).doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0) === 1) return { claimed: true };
      const row = await db
        .selectFrom('trigger_calls')
        .select('result')
        .where('organization_id', '=', k.organizationId)
        .where('trigger_name', '=', k.triggerName)
        .where('idempotency_key', '=', k.idempotencyKey)
        .executeTakeFirst();
      return { claimed: false, result: row?.result ?? null };
    },
    async storeCallResult(k, result) {
      await keyWhere(k).set({ result }).execute();
    },
    async releaseCall(k) {
      await db
        .deleteFrom('trigger_calls')
        .where('organization_id', '=', k.organizationId)
        .where('trigger_name', '=', k.triggerName)
        .where('idempotency_key', '=', k.idempotencyKey)
        .execute();
    },
  };
}

/**
 * A stored secret in plain text. A plaintext value (written before sealing,
 * or by a replica of an older version) is returned as it is until the next
 * start seals it; a value under a key this server lacks is UNAVAILABLE, a
 * configuration fault that the start-up check normally reports first.
 */
function openSecret(keyring: SecretKeyring, triggerId: string, stored: string): string {
  if (sealedKeyId(stored) === undefined) return stored;
  try {
    return keyring.open(stored, context(triggerId));
  } catch (err) {
    throw new MusterError('UNAVAILABLE', `the secret of trigger ${triggerId} cannot be opened: ${(err as Error).message}`, { cause: err });
  }
}

/** The one-row table naming the key trigger secrets are sealed with (migration 0015-sealed-secrets). */
interface SealingKeyTable {
  slot: string;
  key_id: string;
  updated_at: string;
}

/** What the start-up sealing did. */
export interface SealingReport {
  keyId: string;
  /** Plaintext secrets sealed now (from before sealing, or written by an older replica). */
  sealed: number;
  /** Secrets moved from a previous key to the current one. */
  resealed: number;
  /** The key the database named before this start, when it was another one (a rotation). */
  previousKeyId?: string;
}

/**
 * Makes every stored trigger and webhook secret sealed with the keyring's current key,
 * at start, before any request: plaintext ones are sealed, ones under a
 * previous key are re-sealed. Refuses (UNAVAILABLE, changing nothing) when
 * the database's key, or a secret's, is not in the keyring: a replica with
 * another key would otherwise fail every signed call it answers.
 */
export async function sealTriggerSecrets(db: Kysely<Schema>, keyring: SecretKeyring, now: string): Promise<SealingReport> {
  const k = db.withTables<{ sealing_key: SealingKeyTable }>();
  await k
    .insertInto('sealing_key')
    .values({ slot: 'current', key_id: keyring.currentId, updated_at: now })
    .onConflict((oc) => oc.column('slot').doNothing())
    .execute();
  const named = (await k.selectFrom('sealing_key').select('key_id').where('slot', '=', 'current').executeTakeFirstOrThrow()).key_id;
  // Webhook signing secrets are sealed the same way (store/repos/webhooks.ts) and move with the key too.
  const rows = [
    ...(await db.selectFrom('triggers').select(['id', 'secret']).where('secret', 'is not', null).execute()).map((r) => ({ ...r, table: 'triggers' as const })),
    ...(await db.selectFrom('webhooks').select(['id', 'secret']).execute()).map((r) => ({ ...r, table: 'webhooks' as const })),
  ];
  const unknown = new Set([named, ...rows.map((r) => sealedKeyId(r.secret!))].filter((id): id is string => id !== undefined && !keyring.ids.includes(id)));
  if (unknown.size > 0) {
    throw new MusterError(
      'UNAVAILABLE',
      `trigger secrets in this database are sealed with key ${[...unknown].join(', ')}, and this server has ${keyring.ids.join(', ')}: every server of a database needs the same secret key (MUSTER_SECRET_KEY, or the data dir's secret-key file)`,
    );
  }
  const report: SealingReport = { keyId: keyring.currentId, sealed: 0, resealed: 0, ...(named !== keyring.currentId ? { previousKeyId: named } : {}) };
  for (const row of rows) {
    const stored = row.secret!;
    const id = sealedKeyId(stored);
    if (id === keyring.currentId) continue;
    const ctx = row.table === 'triggers' ? context(row.id) : webhookSecretContext(row.id);
    const plain = id === undefined ? stored : keyring.open(stored, ctx);
    // Only if unchanged meanwhile: another replica may be doing the same.
    await db
      .updateTable(row.table)
      .set({ secret: keyring.seal(plain, ctx) })
      .where('id', '=', row.id)
      .where('secret', '=', stored)
      .execute();
    if (id === undefined) report.sealed += 1;
    else report.resealed += 1;
  }
  if (named !== keyring.currentId)
    await k.updateTable('sealing_key').set({ key_id: keyring.currentId, updated_at: now }).where('slot', '=', 'current').execute();
  return report;
}
