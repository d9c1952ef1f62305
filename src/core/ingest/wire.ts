import { hash as digest } from 'node:crypto';
import type { CommandName } from './commands.js';
import type { CatalogResource, IngestCommandRecord, IngestEffect } from './types.js';

/** A payload that breaks its wire format: the command goes to the dead letter office at once. */
export class WireFormatError extends Error {
  override name = 'WireFormatError';
}

type Obj = Record<string, unknown>;

function fail(message: string): never {
  throw new WireFormatError(message);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Exactly these keys: every `required` present, nothing outside `required` ∪ `optional`. */
function keys(what: string, v: unknown, required: readonly string[], optional: readonly string[] = []): Obj {
  if (!isObj(v)) fail(`${what} must be a JSON map`);
  const missing = required.filter((k) => !Object.hasOwn(v, k));
  if (missing.length) fail(`${what} is missing keys: ${missing.join(', ')}`);
  const known = new Set([...required, ...optional]);
  const extra = Object.keys(v).filter((k) => !known.has(k));
  if (extra.length) fail(`${what} has disallowed keys: ${extra.join(', ')}`);
  return v;
}

function str(v: Obj, k: string, nullable = false): string | null {
  const x = v[k];
  if (typeof x === 'string') return x;
  if (nullable && (x === null || x === undefined)) return null;
  return fail(`${k} must be a string${nullable ? ' or null' : ''}`);
}

function bool(v: Obj, k: string, nullable = false): boolean | null {
  const x = v[k];
  if (typeof x === 'boolean') return x;
  if (nullable && (x === null || x === undefined)) return null;
  return fail(`${k} must be a boolean${nullable ? ' or null' : ''}`);
}

/** A timestamp as ISO-8601 UTC, so timestamps compare as text. */
export function timestamp(v: unknown, what: string): string {
  const ms = typeof v === 'string' ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) fail(`${what} must be a timestamp`);
  return new Date(ms).toISOString();
}

/** SHA-1 of a text, in hex: report and facts hashes, and submission checksums. */
export function sha1(text: string): string {
  return digest('sha1', text, 'hex');
}

function arr(v: Obj, k: string): unknown[] {
  const x = v[k];
  return Array.isArray(x) ? x : fail(`${k} must be an array`);
}

function facts(p: unknown, version: number, receivedAt: string): IngestEffect {
  const base = ['certname', 'environment', 'producer_timestamp', 'values'];
  const v = keys('replace facts payload', p, version >= 5 ? [...base, 'producer'] : base, ['package_inventory']);
  const values = v.values;
  if (!isObj(values)) fail('values must be a JSON map');
  const producerTimestamp = v.producer_timestamp === null ? receivedAt : timestamp(v.producer_timestamp, 'producer_timestamp');
  const valuesText = JSON.stringify(values);
  return {
    kind: 'facts',
    certname: str(v, 'certname')!,
    environment: str(v, 'environment', true),
    producer: version >= 5 ? str(v, 'producer', true) : null,
    producerTimestamp,
    valuesText,
    hash: sha1(valuesText),
    receivedAt,
  };
}

const CATALOG_KEYS: Record<number, string[]> = {
  6: ['certname', 'version', 'environment', 'transaction_uuid', 'producer_timestamp', 'resources', 'edges'],
  7: ['certname', 'version', 'environment', 'transaction_uuid', 'producer_timestamp', 'resources', 'edges', 'code_id'],
  8: ['certname', 'version', 'environment', 'transaction_uuid', 'producer_timestamp', 'resources', 'edges', 'code_id', 'catalog_uuid'],
  9: ['certname', 'version', 'environment', 'transaction_uuid', 'producer_timestamp', 'resources', 'edges', 'code_id', 'catalog_uuid', 'producer'],
};

function resourceOf(r: unknown, i: number): Obj {
  // Puppet adds `kind` to each resource; PuppetDB strips it, and so does muster.
  const v = keys(`resources[${i}]`, r, ['type', 'title', 'exported', 'tags', 'parameters'], ['file', 'line', 'aliases', 'kind']);
  str(v, 'type');
  str(v, 'title');
  bool(v, 'exported');
  if (!isObj(v.parameters)) fail(`resources[${i}].parameters must be a JSON map`);
  const { kind: _kind, ...rest } = v;
  return rest;
}

function catalog(p: unknown, version: number, receivedAt: string): IngestEffect {
  const v = keys('replace catalog payload', p, CATALOG_KEYS[version]!, ['job_id']);
  const resources = arr(v, 'resources').map(resourceOf);
  const refs = new Set(resources.map((r) => `${r.type as string}[${r.title as string}]`));
  for (const [i, e] of arr(v, 'edges').entries()) {
    const edge = keys(`edges[${i}]`, e, ['source', 'target', 'relationship']);
    for (const end of ['source', 'target'] as const) {
      const ref = keys(`edges[${i}].${end}`, edge[end], ['type', 'title']);
      if (!refs.has(`${ref.type as string}[${ref.title as string}]`))
        fail(`edges[${i}].${end} refers to a missing resource ${ref.type as string}[${ref.title as string}]`);
    }
  }
  const bodyText = JSON.stringify({ ...v, resources });
  return {
    kind: 'catalog',
    certname: str(v, 'certname')!,
    environment: str(v, 'environment', true),
    producerTimestamp: timestamp(v.producer_timestamp, 'producer_timestamp'),
    hash: sha1(bodyText),
    bodyText,
    resources: resources.map(toStored),
    receivedAt,
  };
}

function toStored(r: Obj): CatalogResource {
  return {
    type: r.type as string,
    title: r.title as string,
    exported: r.exported === true,
    file: typeof r.file === 'string' ? r.file : null,
    line: typeof r.line === 'number' ? r.line : null,
    tagsText: JSON.stringify(r.tags ?? []),
    parametersText: JSON.stringify(r.parameters),
  };
}

const REPORT_V5 = [
  'certname',
  'puppet_version',
  'report_format',
  'configuration_version',
  'start_time',
  'end_time',
  'producer_timestamp',
  'noop',
  'transaction_uuid',
  'metrics',
  'logs',
  'environment',
  'status',
];
const REPORT_KEYS: Record<number, string[]> = {
  5: [...REPORT_V5, 'resource_events'],
  6: [...REPORT_V5, 'resources'],
  7: [...REPORT_V5, 'resources', 'catalog_uuid', 'code_id', 'cached_catalog_status'],
  8: [...REPORT_V5, 'resources', 'catalog_uuid', 'code_id', 'cached_catalog_status', 'producer', 'noop_pending', 'corrective_change'],
};

function report(p: unknown, version: number, receivedAt: string, raw: string): IngestEffect {
  const v = keys('store report payload', p, REPORT_KEYS[version]!, ['job_id', 'type']);
  const endTime = timestamp(v.end_time, 'end_time');
  timestamp(v.start_time, 'start_time');
  arr(v, 'metrics');
  arr(v, 'logs');
  const resources = version >= 6 ? arr(v, 'resources') : arr(v, 'resource_events');
  for (const [i, r] of resources.entries()) if (!isObj(r)) fail(`resources[${i}] must be a JSON map`);
  return {
    kind: 'report',
    certname: str(v, 'certname')!,
    hash: sha1(raw),
    producerTimestamp: timestamp(v.producer_timestamp, 'producer_timestamp'),
    endTime,
    environment: str(v, 'environment', true),
    status: str(v, 'status', true),
    noop: bool(v, 'noop', true),
    noopPending: bool(v, 'noop_pending', true),
    correctiveChange: bool(v, 'corrective_change', true),
    cachedCatalogStatus: str(v, 'cached_catalog_status', true),
    jobId: str(v, 'job_id', true),
    bodyText: raw,
    receivedAt,
  };
}

function inputs(p: unknown, receivedAt: string): IngestEffect {
  const v = keys('replace catalog inputs payload', p, ['certname', 'producer_timestamp', 'catalog_uuid', 'inputs']);
  for (const [i, input] of arr(v, 'inputs').entries()) {
    if (!Array.isArray(input) || input.length !== 2 || !input.every((x) => typeof x === 'string')) fail(`inputs[${i}] must be a [type, name] pair of strings`);
  }
  void receivedAt;
  return {
    kind: 'inputs',
    certname: str(v, 'certname')!,
    producerTimestamp: timestamp(v.producer_timestamp, 'producer_timestamp'),
    catalogUuid: str(v, 'catalog_uuid', true),
    inputs: arr(v, 'inputs'),
  };
}

/**
 * Checks a payload against its command's wire format and turns it into the
 * effect the store applies. Throws WireFormatError for a payload that breaks it.
 */
export function toEffect(command: CommandName, version: number, payload: unknown, receivedAt: string, raw = JSON.stringify(payload)): IngestEffect {
  switch (command) {
    case 'replace facts':
      return facts(payload, version, receivedAt);
    case 'replace catalog':
      return catalog(payload, version, receivedAt);
    case 'store report':
      return report(payload, version, receivedAt, raw);
    case 'deactivate node': {
      const v = keys('deactivate node payload', payload, ['certname'], ['producer_timestamp']);
      const at = v.producer_timestamp === undefined || v.producer_timestamp === null ? receivedAt : timestamp(v.producer_timestamp, 'producer_timestamp');
      return { kind: 'deactivate', certname: str(v, 'certname')!, producerTimestamp: at };
    }
    case 'configure expiration': {
      const v = keys('configure expiration payload', payload, ['certname', 'expire', 'producer_timestamp']);
      const expire = keys('expire', v.expire, ['facts']);
      return {
        kind: 'expiration',
        certname: str(v, 'certname')!,
        producerTimestamp: timestamp(v.producer_timestamp, 'producer_timestamp'),
        facts: bool(expire, 'facts')!,
      };
    }
    case 'replace catalog inputs':
      return inputs(payload, receivedAt);
  }
}

/** The effect of a queued command from its parsed payload, whose certname must be the command's. */
export function effectOf(record: IngestCommandRecord, parsed: unknown): IngestEffect {
  // A report is stored as received (its text, already valid JSON), not re-serialized.
  const effect = toEffect(record.command, record.version, parsed, record.receivedAt, record.payload ?? 'null');
  if (effect.certname !== record.certname)
    throw new WireFormatError(`payload certname ${JSON.stringify(effect.certname)} differs from the command's ${JSON.stringify(record.certname)}`);
  return effect;
}
