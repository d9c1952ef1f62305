import { hash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { chunks } from '../chunks.js';
import type { IngestResourceTable, Schema } from '../schema.js';

type Tx = Kysely<Schema> | Transaction<Schema>;
type Obj = Record<string, unknown>;

/** PuppetDB's resource hash: stable for the same certname, type, title and parameters. */
function resourceHash(certname: string, r: Obj): string {
  return hash('sha1', JSON.stringify([certname, r.type, r.title, r.parameters]), 'hex');
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
async function deleteFor(tx: Tx, table: 'ingest_resources', targets: DerivedTarget[]): Promise<void> {
  const byOrg = new Map<string, string[]>();
  for (const t of targets) byOrg.set(t.org, [...(byOrg.get(t.org) ?? []), t.certname]);
  for (const [org, certnames] of byOrg) {
    for (const part of chunks(certnames)) await tx.deleteFrom(table).where('organization_id', '=', org).where('certname', 'in', part).execute();
  }
}

/** Replaces the resource rows of these certnames by those of their latest catalogs (same transaction as the catalogs). */
export async function replaceResourceRows(tx: Tx, items: Array<DerivedTarget & { environment: string | null; body: Obj }>): Promise<void> {
  if (items.length === 0) return;
  await deleteFor(tx, 'ingest_resources', items);
  for (const part of chunks(items.flatMap((i) => resourceRowsOf(i.org, i.certname, i.environment, i.body)), ROWS_PER_INSERT)) await tx.insertInto('ingest_resources').values(part).execute();
}
