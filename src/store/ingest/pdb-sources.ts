import { sql, type Selectable } from 'kysely';
import type { FieldType, IngestNode, QueryEntity } from '../../core/ingest/index.js';
import type { DialectName } from '../dialect.js';
import type { IngestNodeTable } from '../schema.js';
import { fromJson } from '../repos/json.js';
import { col, nodeScope, nodeState, ref, type Col, type Source } from './pdb-columns.js';
import { eventsSource } from './pdb-events.js';
import { factSources } from './pdb-facts.js';
import { inventorySource } from './pdb-inventory.js';

export type { Col, Raw, Row, Source } from './pdb-columns.js';

/** A field inside a JSON document column, as text (muster_fact, defined on both databases). */
const inDoc = (type: FieldType, doc: string, path: string): Col => ({
  type,
  sql: sql`muster_fact(${ref(doc)}, ${path})`,
  ...(type === 'boolean' ? { storage: 'booltext' as const } : {}),
});
const flag = (n: unknown) => (n === null || n === undefined ? null : Number(n) === 1);
const obj = (text: unknown) => fromJson<Record<string, unknown>>(text as string | null, {});

/** A stored node as core sees it. */
export function toNode(r: Selectable<IngestNodeTable>): IngestNode {
  return {
    certname: r.certname,
    deactivated: r.deactivated,
    expireFacts: Number(r.expire_facts) === 1,
    factsEnvironment: r.facts_environment,
    factsProducer: r.facts_producer,
    factsTimestamp: r.facts_timestamp,
    factsProducerTimestamp: r.facts_producer_timestamp,
    factsHash: r.facts_hash,
    catalogTimestamp: r.catalog_timestamp,
    catalogProducerTimestamp: r.catalog_producer_timestamp,
    catalogEnvironment: r.catalog_environment,
    reportTimestamp: r.report_timestamp,
    reportProducerTimestamp: r.report_producer_timestamp,
    reportEnvironment: r.report_environment,
    latestReportHash: r.latest_report_hash,
    latestReportStatus: r.latest_report_status,
    latestReportNoop: flag(r.latest_report_noop),
    latestReportNoopPending: flag(r.latest_report_noop_pending),
    latestReportCorrectiveChange: flag(r.latest_report_corrective_change),
    latestReportJobId: r.latest_report_job_id,
    cachedCatalogStatus: r.cached_catalog_status,
  };
}

const NODE_FIELDS: Record<string, Col> = {
  certname: col('text', 'n.certname'),
  deactivated: col('timestamp', 'n.deactivated'),
  expired: { type: 'timestamp', sql: sql`cast(null as text)` },
  catalog_timestamp: col('timestamp', 'n.catalog_timestamp'),
  facts_timestamp: col('timestamp', 'n.facts_timestamp'),
  report_timestamp: col('timestamp', 'n.report_timestamp'),
  catalog_environment: col('text', 'n.catalog_environment'),
  facts_environment: col('text', 'n.facts_environment'),
  report_environment: col('text', 'n.report_environment'),
  latest_report_status: col('text', 'n.latest_report_status'),
  latest_report_hash: col('text', 'n.latest_report_hash'),
  latest_report_job_id: col('text', 'n.latest_report_job_id'),
  latest_report_noop: col('boolean', 'n.latest_report_noop', 'bit'),
  latest_report_noop_pending: col('boolean', 'n.latest_report_noop_pending', 'bit'),
  latest_report_corrective_change: col('boolean', 'n.latest_report_corrective_change', 'bit'),
  cached_catalog_status: col('text', 'n.cached_catalog_status'),
  node_state: nodeState('n'),
};

const nodes: Source<'nodes'> = {
  from: sql`ingest_nodes n`,
  scope: (org, q) => [sql`n.organization_id = ${org}`, ...nodeScope('n', q)],
  facts: ref('n.facts'),
  field: (name) => NODE_FIELDS[name],
  select: sql`n.*`,
  order: [ref('n.certname')],
  decode: (r) => toNode(r as Selectable<IngestNodeTable>),
};

const FACTSET_FIELDS: Record<string, Col> = {
  certname: col('text', 'n.certname'),
  environment: col('text', 'n.facts_environment'),
  timestamp: col('timestamp', 'n.facts_timestamp'),
  producer_timestamp: col('timestamp', 'n.facts_producer_timestamp'),
  producer: col('text', 'n.facts_producer'),
  hash: col('text', 'n.facts_hash'),
  facts: col('json', 'n.facts'),
  node_state: nodeState('n'),
};

const factsets: Source<'factsets'> = {
  from: sql`ingest_nodes n`,
  scope: (org, q) => [sql`n.organization_id = ${org}`, sql`n.facts is not null`, ...nodeScope('n', q)],
  facts: ref('n.facts'),
  field: (name) => FACTSET_FIELDS[name],
  select: sql`n.certname, n.facts, n.facts_environment, n.facts_producer, n.facts_timestamp, n.facts_producer_timestamp, n.facts_hash, n.deactivated`,
  order: [ref('n.certname')],
  decode: (r) => ({
    certname: r.certname as string,
    environment: r.facts_environment as string | null,
    producer: r.facts_producer as string | null,
    timestamp: r.facts_timestamp as string,
    producerTimestamp: r.facts_producer_timestamp as string,
    hash: r.facts_hash as string,
    values: obj(r.facts),
    deactivated: r.deactivated as string | null,
  }),
};

const REPORT_COLUMNS: Record<string, Col> = {
  hash: col('text', 'r.hash'),
  certname: col('text', 'r.certname'),
  end_time: col('timestamp', 'r.end_time'),
  producer_timestamp: col('timestamp', 'r.producer_timestamp'),
  receive_time: col('timestamp', 'r.received_at'),
  type: { type: 'text', sql: sql`coalesce(muster_fact(r.body, 'type'), 'agent')` },
  'latest_report?': { type: 'boolean', sql: sql`case when n.latest_report_hash = r.hash then 1 else 0 end`, storage: 'bit' },
  report_format: { type: 'number', sql: sql`cast(muster_fact(r.body, 'report_format') as double precision)` },
  node_state: nodeState('n'),
};

const reports: Source<'reports'> = {
  from: sql`ingest_reports r left join ingest_nodes n on n.organization_id = r.organization_id and n.certname = r.certname`,
  scope: (org, q) => [sql`r.organization_id = ${org}`, ...nodeScope('n', q)],
  facts: ref('n.facts'),
  // Other fields live only in the stored report; they are read from it in SQL.
  field: (name) => REPORT_COLUMNS[name] ?? inDoc(reportFieldType(name), 'r.body', name),
  select: sql`r.hash, r.certname, r.received_at, r.body, n.latest_report_hash`,
  order: [sql`r.end_time desc`, ref('r.hash')],
  decode: (r) => ({
    hash: r.hash as string,
    certname: r.certname as string,
    receivedAt: r.received_at as string,
    body: obj(r.body),
    latest: r.latest_report_hash === r.hash,
  }),
};

const REPORT_BOOLEANS = new Set(['noop', 'noop_pending', 'corrective_change']);
const REPORT_JSON = new Set(['resource_events', 'metrics', 'logs']);
const reportFieldType = (name: string): FieldType =>
  REPORT_BOOLEANS.has(name) ? 'boolean' : REPORT_JSON.has(name) ? 'json' : name.endsWith('_time') ? 'timestamp' : 'text';

const RESOURCE_FIELDS: Record<string, Col> = {
  certname: col('text', 's.certname'),
  resource: col('text', 's.resource'),
  type: col('text', 's.type'),
  title: col('text', 's.title'),
  tags: col('json', 's.tags'),
  exported: col('boolean', 's.exported', 'bit'),
  file: col('text', 's.file'),
  line: col('number', 's.line'),
  parameters: col('json', 's.parameters'),
  environment: col('text', 's.environment'),
  node_state: nodeState('n'),
};

const resources: Source<'resources'> = {
  from: sql`ingest_resources s join ingest_nodes n on n.organization_id = s.organization_id and n.certname = s.certname`,
  scope: (org, q) => [sql`s.organization_id = ${org}`, ...nodeScope('n', q)],
  facts: ref('n.facts'),
  field: (name) => RESOURCE_FIELDS[name] ?? (name.startsWith('parameters.') ? inDoc('text', 's.parameters', name.slice('parameters.'.length)) : undefined),
  select: sql`s.*`,
  order: [ref('s.certname'), ref('s.ordinal')],
  decode: (r) => ({
    certname: r.certname as string,
    resource: r.resource as string,
    type: r.type as string,
    title: r.title as string,
    tags: JSON.parse(r.tags as string),
    exported: flag(r.exported) === true,
    file: r.file as string | null,
    line: r.line === null ? null : Number(r.line),
    parameters: JSON.parse(r.parameters as string),
    environment: r.environment as string | null,
  }),
};

const CATALOG_COLUMNS: Record<string, Col> = {
  certname: col('text', 'c.certname'),
  hash: col('text', 'c.hash'),
  producer_timestamp: col('timestamp', 'c.producer_timestamp'),
  node_state: nodeState('n'),
};

const catalogs: Source<'catalogs'> = {
  from: sql`ingest_catalogs c left join ingest_nodes n on n.organization_id = c.organization_id and n.certname = c.certname`,
  scope: (org, q) => [sql`c.organization_id = ${org}`, ...nodeScope('n', q)],
  facts: ref('n.facts'),
  field: (name) => CATALOG_COLUMNS[name] ?? inDoc(name === 'resources' || name === 'edges' ? 'json' : 'text', 'c.body', name),
  select: sql`c.certname, c.hash, c.received_at, c.body`,
  order: [ref('c.certname')],
  decode: (r) => ({ certname: r.certname as string, hash: r.hash as string, receivedAt: r.received_at as string, body: obj(r.body) }),
};

/** Every queryable entity's source on one database (facts and fact contents are read from the stored JSON in its own way). */
export function sourcesFor(dialect: DialectName): { [E in QueryEntity]: Source<E> } {
  return { nodes, factsets, reports, resources, catalogs, ...factSources(dialect), events: eventsSource(dialect), inventory: inventorySource(dialect) };
}
