/** The entities of PuppetDB's query API that muster answers. */
export const QUERY_ENTITIES = ['nodes', 'factsets', 'facts', 'fact-contents', 'reports', 'resources', 'catalogs', 'events', 'inventory'] as const;
export type QueryEntity = (typeof QUERY_ENTITIES)[number];

/**
 * How a field compares: text and timestamps as text (timestamps are stored as
 * ISO-8601 UTC, so order as text is order in time), numbers as numbers,
 * booleans, JSON documents (equality of their JSON), a fact value (any JSON:
 * compares as string, number or JSON by the operand), a fact path (an array),
 * a node's state (active or inactive, or any).
 */
export type FieldType = 'text' | 'timestamp' | 'number' | 'boolean' | 'json' | 'value' | 'path' | 'state';

const text = 'text' as const;
const ts = 'timestamp' as const;
const bool = 'boolean' as const;
const json = 'json' as const;
const num = 'number' as const;
// Every entity belongs to a node: node_state chooses active (the default), inactive or any.
const state = 'state' as const;

/** Which fields each entity has, by PuppetDB's names, and how they compare. */
export const ENTITY_FIELDS: Readonly<Record<QueryEntity, Readonly<Record<string, FieldType>>>> = Object.freeze({
  nodes: {
    certname: text,
    deactivated: ts,
    expired: ts,
    catalog_timestamp: ts,
    facts_timestamp: ts,
    report_timestamp: ts,
    catalog_environment: text,
    facts_environment: text,
    report_environment: text,
    latest_report_status: text,
    latest_report_hash: text,
    latest_report_noop: bool,
    latest_report_noop_pending: bool,
    latest_report_corrective_change: bool,
    latest_report_job_id: text,
    cached_catalog_status: text,
    node_state: state,
  },
  factsets: { certname: text, environment: text, timestamp: ts, producer_timestamp: ts, producer: text, hash: text, facts: json, node_state: state },
  facts: { certname: text, name: text, value: 'value', environment: text, node_state: state },
  'fact-contents': { certname: text, environment: text, path: 'path', name: text, value: 'value', node_state: state },
  reports: {
    hash: text,
    certname: text,
    puppet_version: text,
    report_format: num,
    configuration_version: text,
    start_time: ts,
    end_time: ts,
    producer_timestamp: ts,
    producer: text,
    receive_time: ts,
    transaction_uuid: text,
    catalog_uuid: text,
    code_id: text,
    job_id: text,
    cached_catalog_status: text,
    noop: bool,
    noop_pending: bool,
    corrective_change: bool,
    environment: text,
    status: text,
    type: text,
    'latest_report?': bool,
    resource_events: json,
    metrics: json,
    logs: json,
    node_state: state,
  },
  resources: {
    certname: text,
    resource: text,
    type: text,
    title: text,
    tags: json,
    exported: bool,
    file: text,
    line: num,
    parameters: json,
    environment: text,
    node_state: state,
  },
  catalogs: {
    certname: text,
    version: text,
    environment: text,
    transaction_uuid: text,
    catalog_uuid: text,
    code_id: text,
    job_id: text,
    producer_timestamp: ts,
    producer: text,
    hash: text,
    resources: json,
    edges: json,
    node_state: state,
  },
  events: {
    certname: text,
    report: text,
    status: text,
    timestamp: ts,
    run_start_time: ts,
    run_end_time: ts,
    report_receive_time: ts,
    resource_type: text,
    resource_title: text,
    property: text,
    name: text,
    new_value: json,
    old_value: json,
    message: text,
    file: text,
    line: num,
    containing_class: text,
    containment_path: json,
    corrective_change: bool,
    'latest_report?': bool,
    environment: text,
    configuration_version: text,
    node_state: state,
  },
  inventory: { certname: text, timestamp: ts, environment: text, facts: json, trusted: json, node_state: state },
});

/**
 * The type of `field` in `entity`, or undefined when it has no such field.
 * Resources also take `parameters.<name>` (one parameter, compared as text).
 */
export function fieldType(entity: QueryEntity, field: string): FieldType | undefined {
  const fields = ENTITY_FIELDS[entity];
  if (Object.hasOwn(fields, field)) return fields[field];
  if (entity === 'resources' && /^parameters\.[^.]+$/.test(field)) return 'text';
  return undefined;
}

/** One resource event of a stored report, as /pdb/query/v4/events shows it. */
export interface IngestEventRow {
  certname: string;
  report: string;
  status: string | null;
  timestamp: string | null;
  run_start_time: string | null;
  run_end_time: string | null;
  report_receive_time: string;
  resource_type: string | null;
  resource_title: string | null;
  property: string | null;
  name: string | null;
  new_value: unknown;
  old_value: unknown;
  message: string | null;
  file: string | null;
  line: number | null;
  containment_path: string[] | null;
  containing_class: string | null;
  corrective_change: boolean | null;
  environment: string | null;
  configuration_version: string | null;
}

/** One node's inventory: its latest facts, and the trusted data among them. */
export interface IngestInventoryRow {
  certname: string;
  timestamp: string;
  environment: string | null;
  facts: Record<string, unknown>;
  trusted: unknown;
}

// The row types of the entities defined here, beside those of types.ts.
declare module './types.js' {
  interface QueryRows {
    events: IngestEventRow;
    inventory: IngestInventoryRow;
  }
}
