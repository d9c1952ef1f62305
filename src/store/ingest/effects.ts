import { sql, type Kysely, type Transaction } from 'kysely';
import { AGENT_FACTS_PRODUCER, type IngestEffect } from '../../core/ingest/index.js';
import { chunks } from '../chunks.js';
import { insertMany, type InsertModifier as Upsert } from '../insert-many.js';
import type { Schema } from '../schema.js';
import { replaceResourceRows } from './derived.js';

type Tx = Kysely<Schema> | Transaction<Schema>;

/** Keeps a deactivation only when it is newer than the data now arriving (newer data reactivates). */
const reactivate = (column: string) =>
  sql<string | null>`case when ingest_nodes.deactivated > excluded.${sql.ref(column)} then ingest_nodes.deactivated else null end`;

/** True when the stored timestamp in `column` is absent or not newer than the incoming one. */
const notNewer = (column: string) => sql<boolean>`ingest_nodes.${sql.ref(column)} is null or ingest_nodes.${sql.ref(column)} <= excluded.${sql.ref(column)}`;

const bit = (b: boolean | null) => (b === null ? null : b ? 1 : 0);

type Of<K extends IngestEffect['kind']> = { org: string; e: Extract<IngestEffect, { kind: K }> };

/**
 * The newest effect per certname: one multi-row upsert may not touch a row
 * twice (PostgreSQL refuses), and an older one would change nothing anyway.
 */
function newestPerCertname<T extends { org: string; e: { certname: string; producerTimestamp: string } }>(items: T[]): T[] {
  const by = new Map<string, T>();
  for (const it of items) {
    const key = `${it.org}\u0000${it.e.certname}`;
    const have = by.get(key);
    if (!have || have.e.producerTimestamp <= it.e.producerTimestamp) by.set(key, it);
  }
  return [...by.values()];
}

/** Rows per upsert: under both databases' bound-parameter limits, and one prepared statement per chunk. */
const ROWS_PER_UPSERT = 100;

// An older "replace facts" processed after a newer one changes nothing; nor do the muster agent's
// basic facts replace the fuller set a configuration-management run (Puppet) reported.
const factsUpsert: Upsert<'ingest_nodes'> = (qb) =>
  qb.onConflict((oc) =>
    oc
      .columns(['organization_id', 'certname'])
      .doUpdateSet((eb) => ({
        environment: eb.ref('excluded.environment'),
        facts: eb.ref('excluded.facts'),
        facts_hash: eb.ref('excluded.facts_hash'),
        facts_environment: eb.ref('excluded.facts_environment'),
        facts_producer: eb.ref('excluded.facts_producer'),
        facts_timestamp: eb.ref('excluded.facts_timestamp'),
        facts_producer_timestamp: eb.ref('excluded.facts_producer_timestamp'),
        deactivated: reactivate('facts_producer_timestamp'),
      }))
      .where(
        sql<boolean>`(${notNewer('facts_producer_timestamp')}) and not (excluded.facts_producer = ${AGENT_FACTS_PRODUCER} and ingest_nodes.facts_producer is not null and ingest_nodes.facts_producer <> ${AGENT_FACTS_PRODUCER})`,
      ),
  );

async function facts(tx: Tx, items: Array<Of<'facts'>>): Promise<void> {
  for (const part of chunks(newestPerCertname(items), ROWS_PER_UPSERT)) {
    const rows = part.map(({ org, e }) => ({
      organization_id: org,
      certname: e.certname,
      environment: e.environment,
      facts: e.valuesText,
      facts_hash: e.hash,
      facts_environment: e.environment,
      facts_producer: e.producer,
      facts_timestamp: e.receivedAt,
      facts_producer_timestamp: e.producerTimestamp,
    }));
    await insertMany(tx, 'ingest_nodes', rows, factsUpsert);
  }
}

/**
 * Rewrites derived rows only for the effects that are now the stored latest
 * (their hash is the row's): an upsert's guard may have kept newer data, and
 * then the derived rows must stay those of the newer data.
 */
async function deriveCurrent<T extends { org: string; e: { certname: string; hash: string } }>(
  tx: Tx,
  part: T[],
  derive: (items: T[]) => Promise<void>,
): Promise<void> {
  const stored = await tx
    .selectFrom('ingest_catalogs')
    .select(['organization_id', 'certname', 'hash'])
    .where((eb) => eb.or(part.map(({ org, e }) => eb.and([eb('organization_id', '=', org), eb('certname', '=', e.certname)]))))
    .execute();
  const current = new Set(stored.map((r) => `${r.organization_id}\u0000${r.certname}\u0000${r.hash}`));
  await derive(part.filter((item) => current.has(`${item.org}\u0000${item.e.certname}\u0000${item.e.hash}`)));
}

const catalogUpsert: Upsert<'ingest_catalogs'> = (qb) =>
  qb.onConflict((oc) =>
    oc
      .columns(['organization_id', 'certname'])
      .doUpdateSet((eb) => ({
        hash: eb.ref('excluded.hash'),
        producer_timestamp: eb.ref('excluded.producer_timestamp'),
        received_at: eb.ref('excluded.received_at'),
        body: eb.ref('excluded.body'),
      }))
      .where(sql<boolean>`ingest_catalogs.producer_timestamp <= excluded.producer_timestamp`),
  );

const catalogNodeUpsert: Upsert<'ingest_nodes'> = (qb) =>
  qb.onConflict((oc) =>
    oc
      .columns(['organization_id', 'certname'])
      .doUpdateSet((eb) => ({
        catalog_timestamp: eb.ref('excluded.catalog_timestamp'),
        catalog_producer_timestamp: eb.ref('excluded.catalog_producer_timestamp'),
        catalog_environment: eb.ref('excluded.catalog_environment'),
        deactivated: reactivate('catalog_producer_timestamp'),
      }))
      .where(notNewer('catalog_producer_timestamp')),
  );

async function catalogs(tx: Tx, items: Array<Of<'catalog'>>): Promise<void> {
  for (const part of chunks(newestPerCertname(items), ROWS_PER_UPSERT)) {
    const rows = part.map(({ org, e }) => ({
      organization_id: org,
      certname: e.certname,
      hash: e.hash,
      producer_timestamp: e.producerTimestamp,
      received_at: e.receivedAt,
      body: e.bodyText,
    }));
    await insertMany(tx, 'ingest_catalogs', rows, catalogUpsert);
    await deriveCurrent(tx, part, (items) =>
      replaceResourceRows(
        tx,
        items.map(({ org, e }) => ({ org, certname: e.certname, environment: e.environment, resources: e.resources })),
      ),
    );
    const nodes = part.map(({ org, e }) => ({
      organization_id: org,
      certname: e.certname,
      environment: e.environment,
      catalog_timestamp: e.receivedAt,
      catalog_producer_timestamp: e.producerTimestamp,
      catalog_environment: e.environment,
    }));
    await insertMany(tx, 'ingest_nodes', nodes, catalogNodeUpsert);
  }
}

const reportInsert: Upsert<'ingest_reports'> = (qb) => qb.onConflict((oc) => oc.columns(['organization_id', 'hash']).doNothing());

const reportNodeUpsert: Upsert<'ingest_nodes'> = (qb) =>
  qb.onConflict((oc) =>
    oc
      .columns(['organization_id', 'certname'])
      .doUpdateSet((eb) => ({
        report_timestamp: eb.ref('excluded.report_timestamp'),
        report_producer_timestamp: eb.ref('excluded.report_producer_timestamp'),
        report_environment: eb.ref('excluded.report_environment'),
        latest_report_hash: eb.ref('excluded.latest_report_hash'),
        latest_report_status: eb.ref('excluded.latest_report_status'),
        latest_report_noop: eb.ref('excluded.latest_report_noop'),
        latest_report_noop_pending: eb.ref('excluded.latest_report_noop_pending'),
        latest_report_corrective_change: eb.ref('excluded.latest_report_corrective_change'),
        latest_report_job_id: eb.ref('excluded.latest_report_job_id'),
        cached_catalog_status: eb.ref('excluded.cached_catalog_status'),
        deactivated: reactivate('report_producer_timestamp'),
      }))
      .where(notNewer('report_producer_timestamp')),
  );

async function reports(tx: Tx, items: Array<Of<'report'>>): Promise<void> {
  for (const part of chunks(items, ROWS_PER_UPSERT)) {
    const rows = part.map(({ org, e }) => ({
      organization_id: org,
      hash: e.hash,
      certname: e.certname,
      producer_timestamp: e.producerTimestamp,
      end_time: e.endTime,
      received_at: e.receivedAt,
      body: e.bodyText,
    }));
    await insertMany(tx, 'ingest_reports', rows, reportInsert);
  }
  for (const part of chunks(newestPerCertname(items), ROWS_PER_UPSERT)) {
    const rows = part.map(({ org, e }) => ({
      organization_id: org,
      certname: e.certname,
      report_timestamp: e.endTime,
      report_producer_timestamp: e.producerTimestamp,
      report_environment: e.environment,
      latest_report_hash: e.hash,
      latest_report_status: e.status,
      latest_report_noop: bit(e.noop),
      latest_report_noop_pending: bit(e.noopPending),
      latest_report_corrective_change: bit(e.correctiveChange),
      latest_report_job_id: e.jobId,
      cached_catalog_status: e.cachedCatalogStatus,
    }));
    await insertMany(tx, 'ingest_nodes', rows, reportNodeUpsert);
  }
}

async function deactivate(tx: Tx, org: string, e: Extract<IngestEffect, { kind: 'deactivate' }>): Promise<void> {
  await tx
    .insertInto('ingest_nodes')
    .values({ organization_id: org, certname: e.certname, deactivated: e.producerTimestamp })
    .onConflict((oc) =>
      oc
        .columns(['organization_id', 'certname'])
        .doUpdateSet((eb) => ({ deactivated: eb.ref('excluded.deactivated') }))
        // A deactivation older than the latest data has no effect.
        .where(
          sql<boolean>`(ingest_nodes.facts_producer_timestamp is null or ingest_nodes.facts_producer_timestamp <= excluded.deactivated)
            and (ingest_nodes.catalog_producer_timestamp is null or ingest_nodes.catalog_producer_timestamp <= excluded.deactivated)
            and (ingest_nodes.deactivated is null or ingest_nodes.deactivated < excluded.deactivated)`,
        ),
    )
    .execute();
}

async function applyOne(tx: Tx, org: string, e: Exclude<IngestEffect, { kind: 'facts' | 'catalog' | 'report' }>): Promise<void> {
  switch (e.kind) {
    case 'deactivate':
      return deactivate(tx, org, e);
    case 'expiration':
      await tx
        .insertInto('ingest_nodes')
        .values({ organization_id: org, certname: e.certname, expire_facts: e.facts ? 1 : 0 })
        .onConflict((oc) => oc.columns(['organization_id', 'certname']).doUpdateSet((eb) => ({ expire_facts: eb.ref('excluded.expire_facts') })))
        .execute();
      return;
    case 'inputs':
      await tx
        .insertInto('ingest_catalog_inputs')
        .values({
          organization_id: org,
          certname: e.certname,
          producer_timestamp: e.producerTimestamp,
          catalog_uuid: e.catalogUuid,
          inputs: JSON.stringify(e.inputs),
        })
        .onConflict((oc) =>
          oc
            .columns(['organization_id', 'certname'])
            .doUpdateSet((eb) => ({
              producer_timestamp: eb.ref('excluded.producer_timestamp'),
              catalog_uuid: eb.ref('excluded.catalog_uuid'),
              inputs: eb.ref('excluded.inputs'),
            }))
            .where(sql<boolean>`ingest_catalog_inputs.producer_timestamp <= excluded.producer_timestamp`),
        )
        .execute();
  }
}

/**
 * Applies a batch of effects in their order, the bulky kinds (facts, catalogs,
 * reports) as multi-row statements. Idempotent: a command processed twice
 * changes nothing more, and an older one never replaces a newer one.
 */
export async function applyEffects(tx: Tx, items: Array<{ org: string; e: IngestEffect }>): Promise<void> {
  const of = <K extends 'facts' | 'catalog' | 'report'>(k: K) => items.filter((i): i is Of<K> => i.e.kind === k);
  await facts(tx, of('facts'));
  await catalogs(tx, of('catalog'));
  await reports(tx, of('report'));
  for (const { org, e } of items) if (e.kind !== 'facts' && e.kind !== 'catalog' && e.kind !== 'report') await applyOne(tx, org, e);
}
