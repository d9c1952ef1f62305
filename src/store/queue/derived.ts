import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { chunks } from '../chunks.js';
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

/** Rows per insert: 9–12 columns each stays far under both databases' bound-parameter limits. */
const ROWS_PER_INSERT = 200;

/** A certname whose derived rows are rewritten. */
export interface DerivedTarget {
  org: string;
  certname: string;
}

/** Deletes the rows of `table` that belong to any of `targets`: one statement per organization and chunk. */
async function deleteFor(tx: Tx, table: 'ingest_facts' | 'ingest_fact_contents' | 'ingest_resources', targets: DerivedTarget[]): Promise<void> {
  const byOrg = new Map<string, string[]>();
  for (const t of targets) byOrg.set(t.org, [...(byOrg.get(t.org) ?? []), t.certname]);
  for (const [org, certnames] of byOrg) {
    for (const part of chunks(certnames)) await tx.deleteFrom(table).where('organization_id', '=', org).where('certname', 'in', part).execute();
  }
}

/**
 * Replaces the derived fact rows of these certnames by those of their facts.
 * Called in the transaction that stored these facts as the nodes' latest, so
 * the rows always match `ingest_nodes.facts`. Batched across certnames: one
 * statement per few hundred rows rather than four per node (measured: 290 →
 * see docs/benchmarks.md replace-facts/s on SQLite).
 */
export async function replaceFactRows(tx: Tx, items: Array<DerivedTarget & { values: Obj }>): Promise<void> {
  if (items.length === 0) return;
  await deleteFor(tx, 'ingest_facts', items);
  await deleteFor(tx, 'ingest_fact_contents', items);
  for (const part of chunks(items.flatMap((i) => factRowsOf(i.org, i.certname, i.values)), ROWS_PER_INSERT)) await tx.insertInto('ingest_facts').values(part).execute();
  for (const part of chunks(items.flatMap((i) => factContentRowsOf(i.org, i.certname, i.values)), ROWS_PER_INSERT)) await tx.insertInto('ingest_fact_contents').values(part).execute();
}

/** Replaces the resource rows of these certnames by those of their latest catalogs (same transaction as the catalogs). */
export async function replaceResourceRows(tx: Tx, items: Array<DerivedTarget & { environment: string | null; body: Obj }>): Promise<void> {
  if (items.length === 0) return;
  await deleteFor(tx, 'ingest_resources', items);
  for (const part of chunks(items.flatMap((i) => resourceRowsOf(i.org, i.certname, i.environment, i.body)), ROWS_PER_INSERT)) await tx.insertInto('ingest_resources').values(part).execute();
}
