import type { IngestCatalog, IngestFactset, IngestNode, IngestQueryResult, IngestReport } from '../../../core/ingest/index.js';

export type Row = Record<string, unknown>;

const Q = '/pdb/query/v4';

/** A node as /pdb/query/v4/nodes shows it. */
export function nodeView(n: IngestNode): Row {
  return {
    certname: n.certname,
    deactivated: n.deactivated,
    expired: null,
    catalog_timestamp: n.catalogTimestamp,
    facts_timestamp: n.factsTimestamp,
    report_timestamp: n.reportTimestamp,
    catalog_environment: n.catalogEnvironment,
    facts_environment: n.factsEnvironment,
    report_environment: n.reportEnvironment,
    latest_report_status: n.latestReportStatus,
    latest_report_hash: n.latestReportHash,
    latest_report_noop: n.latestReportNoop,
    latest_report_noop_pending: n.latestReportNoopPending,
    latest_report_corrective_change: n.latestReportCorrectiveChange,
    latest_report_job_id: n.latestReportJobId,
    cached_catalog_status: n.cachedCatalogStatus,
  };
}

/** A factset as /pdb/query/v4/factsets shows it. */
export function factsetView(f: IngestFactset): Row {
  return {
    certname: f.certname,
    environment: f.environment,
    timestamp: f.timestamp,
    producer_timestamp: f.producerTimestamp,
    producer: f.producer,
    hash: f.hash,
    facts: { href: `${Q}/factsets/${f.certname}/facts`, data: Object.entries(f.values).map(([name, value]) => ({ name, value })) },
  };
}

function events(body: Row): Row[] {
  const resources = (body.resources ?? []) as Row[];
  if (Array.isArray(body.resource_events)) return body.resource_events as Row[];
  return resources.flatMap((r) =>
    ((r.events ?? []) as Row[]).map((e) => ({
      ...e,
      resource_type: r.resource_type,
      resource_title: r.resource_title,
      file: r.file ?? null,
      line: r.line ?? null,
      containment_path: r.containment_path ?? null,
      containing_class: null,
    })),
  );
}

/** A report as /pdb/query/v4/reports shows it, its events, metrics and logs inline. */
export function reportView(r: IngestReport): Row {
  const b = r.body;
  const href = (what: string) => `${Q}/reports/${r.hash}/${what}`;
  return {
    hash: r.hash,
    certname: r.certname,
    puppet_version: b.puppet_version,
    report_format: b.report_format,
    configuration_version: b.configuration_version,
    start_time: b.start_time,
    end_time: b.end_time,
    producer_timestamp: b.producer_timestamp,
    producer: b.producer ?? null,
    receive_time: r.receivedAt,
    transaction_uuid: b.transaction_uuid,
    catalog_uuid: b.catalog_uuid ?? null,
    code_id: b.code_id ?? null,
    job_id: b.job_id ?? null,
    cached_catalog_status: b.cached_catalog_status ?? null,
    noop: b.noop,
    noop_pending: b.noop_pending ?? null,
    corrective_change: b.corrective_change ?? null,
    environment: b.environment,
    status: b.status,
    type: b.type ?? 'agent',
    'latest_report?': r.latest,
    resource_events: { href: href('events'), data: events(b) },
    metrics: { href: href('metrics'), data: b.metrics },
    logs: { href: href('logs'), data: b.logs },
  };
}

/** A catalog as /pdb/query/v4/catalogs shows it. */
export function catalogView(c: IngestCatalog): Row {
  const b = c.body;
  return {
    certname: c.certname,
    version: b.version,
    environment: b.environment,
    transaction_uuid: b.transaction_uuid,
    catalog_uuid: b.catalog_uuid ?? null,
    code_id: b.code_id ?? null,
    job_id: b.job_id ?? null,
    producer_timestamp: b.producer_timestamp,
    producer: b.producer ?? null,
    hash: c.hash,
    resources: { href: `${Q}/catalogs/${c.certname}/resources`, data: b.resources },
    edges: { href: `${Q}/catalogs/${c.certname}/edges`, data: b.edges },
  };
}

/** A query's rows in PuppetDB's shape (facts, fact contents and resources already have it). */
export function renderRows(result: IngestQueryResult): Row[] {
  switch (result.kind) {
    case 'counts':
      return result.rows;
    case 'rows':
      switch (result.entity) {
        case 'nodes':
          return result.rows.map(nodeView);
        case 'factsets':
          return result.rows.map(factsetView);
        case 'reports':
          return result.rows.map(reportView);
        case 'catalogs':
          return result.rows.map(catalogView);
        default:
          return result.rows as unknown as Row[];
      }
  }
}

/** A field of a rendered row; dotted names reach into structured values (parameters.ensure). */
function get(row: Row, field: string): unknown {
  if (Object.hasOwn(row, field)) return row[field];
  let v: unknown = row;
  for (const part of field.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Row)[part];
  }
  return v;
}

/** `extract` without count: only the named fields of each rendered row. */
export function pick(rows: Row[], fields: string[]): Row[] {
  return rows.map((row) => Object.fromEntries(fields.map((f) => [f, get(row, f) ?? null])));
}
