import { createHash } from 'node:crypto';
import type { IngestCatalog, IngestFactset, IngestNode, IngestReport } from '../../../core/ingest/index.js';
import type { Row } from './ast.js';

const Q = '/pdb/query/v4';

/** A node as /pdb/query/v4/nodes shows it. */
export function nodeView(n: IngestNode): Row {
  return {
    certname: n.certname, deactivated: n.deactivated, expired: null,
    catalog_timestamp: n.catalogTimestamp, facts_timestamp: n.factsTimestamp, report_timestamp: n.reportTimestamp,
    catalog_environment: n.catalogEnvironment, facts_environment: n.factsEnvironment, report_environment: n.reportEnvironment,
    latest_report_status: n.latestReportStatus, latest_report_hash: n.latestReportHash, latest_report_noop: n.latestReportNoop,
    latest_report_noop_pending: n.latestReportNoopPending, latest_report_corrective_change: n.latestReportCorrectiveChange,
    latest_report_job_id: n.latestReportJobId, cached_catalog_status: n.cachedCatalogStatus,
  };
}

export function factsetView(f: IngestFactset): Row {
  return {
    certname: f.certname, environment: f.environment, timestamp: f.timestamp, producer_timestamp: f.producerTimestamp, producer: f.producer, hash: f.hash,
    facts: { href: `${Q}/factsets/${f.certname}/facts`, data: Object.entries(f.values).map(([name, value]) => ({ name, value })) },
  };
}

export function factRows(f: IngestFactset): Row[] {
  return Object.entries(f.values).map(([name, value]) => ({ certname: f.certname, name, value, environment: f.environment }));
}

/** Every leaf of the structured facts, with its path. */
export function factContentRows(f: IngestFactset): Row[] {
  const out: Row[] = [];
  const walk = (value: unknown, path: Array<string | number>) => {
    if (value !== null && typeof value === 'object' && (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, Array.isArray(value) ? Number(k) : k]);
    } else out.push({ certname: f.certname, environment: f.environment, path, name: path[0], value });
  };
  for (const [name, value] of Object.entries(f.values)) walk(value, [name]);
  return out;
}

function events(body: Row): Row[] {
  const resources = (body.resources ?? []) as Row[];
  if (Array.isArray(body.resource_events)) return body.resource_events as Row[];
  return resources.flatMap((r) =>
    ((r.events ?? []) as Row[]).map((e) => ({
      ...e, resource_type: r.resource_type, resource_title: r.resource_title, file: r.file ?? null, line: r.line ?? null, containment_path: r.containment_path ?? null,
      containing_class: null,
    })),
  );
}

export function reportView(r: IngestReport): Row {
  const b = r.body;
  const href = (what: string) => `${Q}/reports/${r.hash}/${what}`;
  return {
    hash: r.hash, certname: r.certname, puppet_version: b.puppet_version, report_format: b.report_format, configuration_version: b.configuration_version,
    start_time: b.start_time, end_time: b.end_time, producer_timestamp: b.producer_timestamp, producer: b.producer ?? null, receive_time: r.receivedAt,
    transaction_uuid: b.transaction_uuid, catalog_uuid: b.catalog_uuid ?? null, code_id: b.code_id ?? null, job_id: b.job_id ?? null,
    cached_catalog_status: b.cached_catalog_status ?? null, noop: b.noop, noop_pending: b.noop_pending ?? null, corrective_change: b.corrective_change ?? null,
    environment: b.environment, status: b.status, type: b.type ?? 'agent', 'latest_report?': r.latest,
    resource_events: { href: href('events'), data: events(b) }, metrics: { href: href('metrics'), data: b.metrics }, logs: { href: href('logs'), data: b.logs },
  };
}

function resourceHash(certname: string, r: Row): string {
  return createHash('sha1').update(JSON.stringify([certname, r.type, r.title, r.parameters])).digest('hex');
}

export function resourceRows(c: IngestCatalog): Row[] {
  const resources = (c.body.resources ?? []) as Row[];
  return resources.map((r) => ({
    certname: c.certname, resource: resourceHash(c.certname, r), type: r.type, title: r.title, tags: r.tags, exported: r.exported,
    file: r.file ?? null, line: r.line ?? null, parameters: r.parameters, environment: c.body.environment ?? null,
  }));
}

export function catalogView(c: IngestCatalog): Row {
  const b = c.body;
  return {
    certname: c.certname, version: b.version, environment: b.environment, transaction_uuid: b.transaction_uuid, catalog_uuid: b.catalog_uuid ?? null,
    code_id: b.code_id ?? null, job_id: b.job_id ?? null, producer_timestamp: b.producer_timestamp, producer: b.producer ?? null, hash: c.hash,
    resources: { href: `${Q}/catalogs/${c.certname}/resources`, data: b.resources }, edges: { href: `${Q}/catalogs/${c.certname}/edges`, data: b.edges },
  };
}
