import { hash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { chunks } from '../chunks.js';
import { insertMany } from '../insert-many.js';
import type { CatalogResource } from '../../core/ingest/index.js';
import type { IngestResourceTable, Schema } from '../schema.js';

type Tx = Kysely<Schema> | Transaction<Schema>;

/** PuppetDB's resource hash: stable for the same certname, type, title and parameters (the text JSON.stringify([certname, type, title, parameters]) gives). */
function resourceHash(certname: string, r: CatalogResource): string {
  return hash('sha1', `[${JSON.stringify(certname)},${JSON.stringify(r.type)},${JSON.stringify(r.title)},${r.parametersText}]`, 'hex');
}

/** One row per resource of a catalog, in catalog order. */
function resourceRowsOf(org: string, certname: string, environment: string | null, resources: CatalogResource[]): IngestResourceTable[] {
  return resources.map((r, ordinal) => ({
    organization_id: org,
    certname,
    ordinal,
    resource: resourceHash(certname, r),
    type: r.type,
    title: r.title,
    tags: r.tagsText,
    exported: r.exported ? 1 : 0,
    file: r.file,
    line: r.line,
    parameters: r.parametersText,
    environment,
  }));
}

/** Rows per insert: 9–12 columns each stays far under both databases' bound-parameter limits. */
const ROWS_PER_INSERT = 200;

/** A certname whose derived rows are rewritten. */
export interface DerivedTarget {
  org: string;
  certname: string;
}

/** Deletes the resource rows of `targets`: one statement per organization and chunk. */
async function deleteResources(tx: Tx, targets: DerivedTarget[]): Promise<void> {
  const byOrg = new Map<string, string[]>();
  for (const t of targets) byOrg.set(t.org, [...(byOrg.get(t.org) ?? []), t.certname]);
  for (const [org, certnames] of byOrg) {
    for (const part of chunks(certnames)) await tx.deleteFrom('ingest_resources').where('organization_id', '=', org).where('certname', 'in', part).execute();
  }
}

/** Replaces the resource rows of these certnames by those of their latest catalogs (same transaction as the catalogs). */
export async function replaceResourceRows(tx: Tx, items: Array<DerivedTarget & { environment: string | null; resources: CatalogResource[] }>): Promise<void> {
  if (items.length === 0) return;
  await deleteResources(tx, items);
  for (const part of chunks(
    items.flatMap((i) => resourceRowsOf(i.org, i.certname, i.environment, i.resources)),
    ROWS_PER_INSERT,
  ))
    await insertMany(tx, 'ingest_resources', part);
}
