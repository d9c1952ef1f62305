import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { IngestFactContentTable, IngestFactTable, IngestResourceTable, Schema } from '../schema.js';

type Tx = Kysely<Schema> | Transaction<Schema>;
type Obj = Record<string, unknown>;

/** The typed columns of one JSON value, so comparisons by type run in SQL with indexes. */
function valueColumns(value: unknown): Pick<IngestFactTable, 'value' | 'value_type' | 'value_string' | 'value_number'> {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return {
    value: JSON.stringify(value),
    value_type: type,
    value_string: typeof value === 'string' ? value : null,
    value_number: typeof value === 'number' ? value : null,
  };
}

/** One row per top-level fact. */
export function factRowsOf(org: string, certname: string, values: Obj): IngestFactTable[] {
  return Object.entries(values).map(([name, value]) => ({ organization_id: org, certname, name, ...valueColumns(value) }));
}

/** One row per leaf of the structured facts (an empty map or array is a leaf), with its path. */
export function factContentRowsOf(org: string, certname: string, values: Obj): IngestFactContentTable[] {
  const out: IngestFactContentTable[] = [];
  const walk = (value: unknown, path: Array<string | number>) => {
    if (value !== null && typeof value === 'object' && (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, Array.isArray(value) ? Number(k) : k]);
    } else out.push({ organization_id: org, certname, path: JSON.stringify(path), name: String(path[0]), ...valueColumns(value) });
  };
  for (const [name, value] of Object.entries(values)) walk(value, [name]);
  return out;
}

/** PuppetDB's resource hash: stable for the same certname, type, title and parameters. */
function resourceHash(certname: string, r: Obj): string {
  return createHash('sha1').update(JSON.stringify([certname, r.type, r.title, r.parameters])).digest('hex');
}

/** One row per resource of a catalog, in catalog order. */
export function resourceRowsOf(org: string, certname: string, environment: string | null, body: Obj): IngestResourceTable[] {
  const resources = (Array.isArray(body.resources) ? body.resources : []) as Obj[];
  return resources.map((r, ordinal) => ({
    organization_id: org, certname, ordinal, resource: resourceHash(certname, r), type: String(r.type), title: String(r.title),
    tags: JSON.stringify(r.tags ?? []), exported: r.exported === true ? 1 : 0, file: typeof r.file === 'string' ? r.file : null,
    line: typeof r.line === 'number' ? r.line : null, parameters: JSON.stringify(r.parameters ?? {}), environment,
  }));
}

/** Rows per statement: 9–12 columns each stays far under both databases' bound-parameter limits. */
function chunked<T>(items: T[], size = 200): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Replaces the derived fact rows of one certname by those of `values`. Called
 * in the transaction that stored these facts as the node's latest, so the
 * rows always match `ingest_nodes.facts`.
 */
export async function replaceFactRows(tx: Tx, org: string, certname: string, values: Obj): Promise<void> {
  await tx.deleteFrom('ingest_facts').where('organization_id', '=', org).where('certname', '=', certname).execute();
  await tx.deleteFrom('ingest_fact_contents').where('organization_id', '=', org).where('certname', '=', certname).execute();
  for (const part of chunked(factRowsOf(org, certname, values))) await tx.insertInto('ingest_facts').values(part).execute();
  for (const part of chunked(factContentRowsOf(org, certname, values))) await tx.insertInto('ingest_fact_contents').values(part).execute();
}

/** Replaces the resource rows of one certname by those of its latest catalog (same transaction as the catalog). */
export async function replaceResourceRows(tx: Tx, org: string, certname: string, environment: string | null, body: Obj): Promise<void> {
  await tx.deleteFrom('ingest_resources').where('organization_id', '=', org).where('certname', '=', certname).execute();
  for (const part of chunked(resourceRowsOf(org, certname, environment, body))) await tx.insertInto('ingest_resources').values(part).execute();
}
