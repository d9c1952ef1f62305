import type { Kysely } from 'kysely';
import type { IngestDataStore } from '../../core/ingest/index.js';
import type { DialectCapabilities } from '../dialect.js';
import type { Schema } from '../schema.js';
import { fromJson } from '../repos/json.js';
import { runIngestQuery } from './pdb-query.js';
import { toNode } from './pdb-sources.js';

/** Reads of ingested data, always within one organization. */
export function ingestDataStore(db: Kysely<Schema>, capabilities: DialectCapabilities): IngestDataStore {
  return {
    async nodes(org, certname) {
      let q = db.selectFrom('ingest_nodes').selectAll().where('organization_id', '=', org);
      if (certname !== undefined) q = q.where('certname', '=', certname);
      return (await q.orderBy('certname').execute()).map(toNode);
    },

    async factsets(org, certname) {
      let q = db
        .selectFrom('ingest_nodes')
        .select(['certname', 'facts', 'facts_environment', 'facts_producer', 'facts_timestamp', 'facts_producer_timestamp', 'facts_hash', 'deactivated'])
        .where('organization_id', '=', org)
        .where('facts', 'is not', null);
      if (certname !== undefined) q = q.where('certname', '=', certname);
      const rows = await q.orderBy('certname').execute();
      return rows.map((r) => ({
        certname: r.certname,
        environment: r.facts_environment,
        producer: r.facts_producer,
        timestamp: r.facts_timestamp!,
        producerTimestamp: r.facts_producer_timestamp!,
        hash: r.facts_hash!,
        values: fromJson<Record<string, unknown>>(r.facts, {}),
        deactivated: r.deactivated,
      }));
    },

    async reports(org, certname) {
      let q = db
        .selectFrom('ingest_reports as r')
        .leftJoin('ingest_nodes as n', (j) => j.onRef('n.organization_id', '=', 'r.organization_id').onRef('n.certname', '=', 'r.certname'))
        .select(['r.hash', 'r.certname', 'r.received_at', 'r.body', 'n.latest_report_hash'])
        .where('r.organization_id', '=', org);
      if (certname !== undefined) q = q.where('r.certname', '=', certname);
      const rows = await q.orderBy('r.end_time', 'desc').execute();
      return rows.map((r) => ({
        hash: r.hash,
        certname: r.certname,
        receivedAt: r.received_at,
        body: fromJson<Record<string, unknown>>(r.body, {}),
        latest: r.latest_report_hash === r.hash,
      }));
    },

    async certnameOfSystem(org, systemId) {
      const row = await db
        .selectFrom('systems')
        .select(['certname', 'hostname'])
        .where('organization_id', '=', org)
        .where('id', '=', systemId)
        .executeTakeFirst();
      return row ? (row.certname ?? row.hostname) : undefined;
    },

    async catalogs(org, certname) {
      let q = db.selectFrom('ingest_catalogs').selectAll().where('organization_id', '=', org);
      if (certname !== undefined) q = q.where('certname', '=', certname);
      const rows = await q.orderBy('certname').execute();
      return rows.map((r) => ({ certname: r.certname, hash: r.hash, receivedAt: r.received_at, body: fromJson<Record<string, unknown>>(r.body, {}) }));
    },

    query: (org, query) => runIngestQuery(db, capabilities, org, query),
  };
}
