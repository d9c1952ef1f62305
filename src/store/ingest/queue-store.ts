import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ClaimRequest, CommandName, CommandState, IngestCommandRecord, IngestQueueStore } from '../../core/ingest/index.js';
import { chunks } from '../chunks.js';
import { insertMany } from '../insert-many.js';
import type { DeferredSync, DialectCapabilities } from '../dialect.js';
import type { IngestCommandTable, Schema } from '../schema.js';
import { auditStore } from '../repos/audit.js';
import { applyEffects } from './effects.js';

type Tx = Kysely<Schema> | Transaction<Schema>;

function toRecord(r: Selectable<IngestCommandTable>, payload: string | null): IngestCommandRecord {
  return {
    id: r.id,
    organizationId: r.organization_id,
    command: r.command as CommandName,
    version: Number(r.version),
    certname: r.certname,
    producerTimestamp: r.producer_timestamp,
    payload,
    receivedAt: r.received_at,
    state: r.state as CommandState,
    attempts: Number(r.attempts),
    availableAt: r.available_at,
    leaseUntil: r.lease_until,
    error: r.error,
    diagnostics: r.diagnostics,
    processedAt: r.processed_at,
  };
}

/** The claim itself, inside a transaction the caller owns. */
async function claimIn(
  tx: Transaction<Schema>,
  capabilities: DialectCapabilities,
  { limit, now, leaseUntil, maxBytes = Infinity, inMemory = () => undefined }: ClaimRequest,
): Promise<IngestCommandRecord[]> {
  let q = tx
    .selectFrom('ingest_commands as c')
    .select((eb) => [
      'c.id',
      eb
        .selectFrom('ingest_payloads as pl')
        .select((e) => e.fn<number>('length', ['pl.payload']).as('n'))
        .whereRef('pl.id', '=', 'c.id')
        .as('size'),
    ])
    .where((eb) =>
      eb.or([
        eb.and([eb('c.state', '=', 'queued'), eb('c.available_at', '<=', now)]),
        eb.and([eb('c.state', '=', 'processing'), eb('c.lease_until', '<', now)]),
      ]),
    )
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('ingest_commands as p')
            .select('p.id')
            .whereRef('p.organization_id', '=', 'c.organization_id')
            .whereRef('p.certname', '=', 'c.certname')
            .where('p.state', '=', 'processing')
            .where('p.lease_until', '>=', now),
        ),
      ),
    )
    .orderBy('c.available_at')
    .orderBy('c.received_at')
    .limit(limit);
  if (capabilities.supportsSkipLocked) q = q.forUpdate().skipLocked();
  const ids: string[] = [];
  let bytes = 0;
  for (const r of await q.execute()) {
    bytes += Number(r.size ?? 0);
    if (ids.length > 0 && bytes > maxBytes) break;
    ids.push(r.id);
  }
  if (ids.length === 0) return [];
  const rows: Array<Selectable<IngestCommandTable>> = [];
  for (const part of chunks(ids)) {
    rows.push(
      ...(await tx
        .updateTable('ingest_commands')
        .set((eb) => ({ state: 'processing', lease_until: leaseUntil, attempts: eb('attempts', '+', 1) }))
        .where('id', 'in', part)
        .returningAll()
        .execute()),
    );
  }
  const payloads = new Map<string, string>();
  for (const id of ids) {
    const held = inMemory(id);
    if (held !== undefined) payloads.set(id, held);
  }
  for (const [id, payload] of await payloadsOf(
    tx,
    ids.filter((id) => !payloads.has(id)),
  ))
    payloads.set(id, payload);
  // Within a batch, one certname's commands apply in producer order.
  return rows
    .map((r) => toRecord(r, payloads.get(r.id) ?? null))
    .sort(
      (a, b) =>
        a.certname.localeCompare(b.certname) ||
        (a.producerTimestamp ?? '').localeCompare(b.producerTimestamp ?? '') ||
        a.receivedAt.localeCompare(b.receivedAt),
    );
}

/** The payloads of these commands, by id (a processed command has none). */
async function payloadsOf(tx: Tx, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const part of chunks(ids))
    for (const r of await tx.selectFrom('ingest_payloads').select(['id', 'payload']).where('id', 'in', part).execute()) out.set(r.id, r.payload);
  return out;
}

/**
 * The ingest queue on Kysely. Claims are one transaction: pick due (or
 * lease-expired) commands whose certname no live lease holds — with
 * `FOR UPDATE SKIP LOCKED` where the database has it, so replicas never wait
 * on each other — then lease them and count the attempt.
 */
export function ingestQueueStore(db: Kysely<Schema>, capabilities: DialectCapabilities, deferred?: DeferredSync): IngestQueueStore {
  // The queue's transactions go through deferred sync where the database has it: the commit's wait for the
  // disk neither blocks the event loop nor is paid once per transaction (store/dialect.ts DeferredSync).
  const transaction = <T>(work: (tx: Transaction<Schema>) => Promise<T>) => (deferred ? deferred.transaction(work) : db.transaction().execute(work));
  return {
    async enqueue(commands, audits = []) {
      if (commands.length === 0) return;
      // Submissions are acknowledged once this resolves, so only once the commit is on disk.
      await transaction(async (tx) => {
        // 15 columns per row; 200 rows stay under SQLite's and PostgreSQL's parameter limits.
        for (const part of chunks(commands, 200)) {
          await insertMany(
            tx,
            'ingest_commands',
            part.map((c) => ({
              id: c.id,
              organization_id: c.organizationId,
              command: c.command,
              version: c.version,
              certname: c.certname,
              producer_timestamp: c.producerTimestamp,
              received_at: c.receivedAt,
              state: 'queued',
              attempts: 0,
              available_at: c.availableAt,
              lease_until: null,
              error: null,
              diagnostics: null,
              processed_at: null,
            })),
          );
        }
        const payloads = commands.flatMap((c) => (c.payload === null ? [] : [{ id: c.id, payload: c.payload }]));
        for (const part of chunks(payloads, 200)) await insertMany(tx, 'ingest_payloads', part);
        // In the same commit: a second transaction per group cost a second fsync.
        if (audits.length > 0) await auditStore(tx).recordMany(audits);
      });
    },

    async claim(request) {
      return transaction((tx) => claimIn(tx, capabilities, request));
    },

    async pruneDone(before) {
      const r = await db.deleteFrom('ingest_commands').where('state', '=', 'done').where('processed_at', '<', before).executeTakeFirst();
      return Number(r.numDeletedRows);
    },

    async releaseLeases() {
      const r = await db.updateTable('ingest_commands').set({ state: 'queued', lease_until: null }).where('state', '=', 'processing').executeTakeFirst();
      return Number(r.numUpdatedRows);
    },

    async complete(completions, at, claimNext) {
      if (completions.length === 0) return [];
      return transaction(async (tx) => {
        await applyEffects(
          tx,
          completions.map((c) => ({ org: c.organizationId, e: c.effect })),
        );
        for (const part of chunks(completions.map((c) => c.id))) {
          await tx.updateTable('ingest_commands').set({ state: 'done', processed_at: at, lease_until: null, error: null }).where('id', 'in', part).execute();
          await tx.deleteFrom('ingest_payloads').where('id', 'in', part).execute();
        }
        return claimNext ? claimIn(tx, capabilities, claimNext) : [];
      });
    },

    async retryLater(id, error, availableAt) {
      await db.updateTable('ingest_commands').set({ state: 'queued', lease_until: null, error, available_at: availableAt }).where('id', '=', id).execute();
    },

    async discard(id, error, diagnostics, at) {
      await db
        .updateTable('ingest_commands')
        .set({ state: 'discarded', lease_until: null, error, diagnostics, processed_at: at })
        .where('id', '=', id)
        .execute();
    },

    async getCommand(organizationId, id) {
      const row = await db.selectFrom('ingest_commands').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return row && toRecord(row, (await payloadsOf(db, [id])).get(id) ?? null);
    },

    async listDiscarded(organizationId, limit) {
      const rows = await db
        .selectFrom('ingest_commands')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('state', '=', 'discarded')
        .orderBy('processed_at', 'desc')
        .limit(limit)
        .execute();
      const payloads = await payloadsOf(
        db,
        rows.map((r) => r.id),
      );
      return rows.map((r) => toRecord(r, payloads.get(r.id) ?? null));
    },

    async requeue(organizationId, id, at) {
      const r = await db
        .updateTable('ingest_commands')
        .set({ state: 'queued', attempts: 0, available_at: at, processed_at: null })
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .where('state', '=', 'discarded')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async deleteDiscarded(organizationId, id) {
      const r = await db
        .deleteFrom('ingest_commands')
        .where('organization_id', '=', organizationId)
        .where('id', '=', id)
        .where('state', '=', 'discarded')
        .executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },

    async counts(organizationId) {
      const rows = await db
        .selectFrom('ingest_commands')
        .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
        .where('organization_id', '=', organizationId)
        .groupBy('state')
        .execute();
      const out: Record<CommandState, number> = { queued: 0, processing: 0, done: 0, discarded: 0 };
      for (const r of rows) out[r.state as CommandState] = Number(r.n);
      return out;
    },
  };
}
