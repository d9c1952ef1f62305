import { sql, type RawBuilder } from 'kysely';
import type { FieldType, IngestQuery, QueryEntity, QueryRows } from '../../core/ingest/index.js';
import type { FactPath } from '../../core/ingest/query.js';

export type Raw = RawBuilder<unknown>;
export type Row = Record<string, unknown>;

/** A fact value's typed parts, for comparisons by type: its JSON type name, its text when a string, its number when a number, its scalar text. */
export interface ValueParts {
  /** 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array'. */
  type: Raw;
  string: Raw;
  number: Raw;
  /** A number's or boolean's text ('12345', 'true'), as PuppetDB compares ["=", "value", "12345"]. */
  scalarText: Raw;
}

/**
 * A field as SQL. `storage` says how a boolean is kept (0/1 columns, or
 * 'true'/'false' text read out of a JSON document by muster_fact); a fact
 * value also carries its typed parts. `equalsJson` overrides how the field
 * equals a JSON value (a structure or a path), where the database compares
 * JSON its own way.
 */
export interface Col {
  type: FieldType;
  sql: Raw;
  storage?: 'bit' | 'booltext';
  value?: ValueParts;
  equalsJson?: (v: unknown) => Raw;
}

/** Where an entity's rows come from, how its fields read in SQL, and how a row decodes. */
export interface Source<E extends QueryEntity> {
  from: Raw;
  /** Always applied: the organization, and active nodes only unless the query asks about node_state. */
  scope(org: string, q: IngestQuery): Raw[];
  /** The node's facts document (`["fact", …]` and inventory's dotted fields read inside it). */
  facts: Raw;
  field(name: string): Col | undefined;
  /** The row's columns, for pages of whole rows. */
  select: Raw;
  /** Stable order, also the tie-break after order_by so pages never overlap. */
  order: Raw[];
  decode(row: Row): QueryRows[E];
}

export const ref = (r: string) => sql.ref(r) as Raw;
export const col = (type: FieldType, r: string, storage?: Col['storage']): Col => ({ type, sql: ref(r), ...(storage ? { storage } : {}) });
/** Active nodes only: deactivated ones leave every query that does not ask about node_state. */
const active = (alias: string) => sql`${ref(`${alias}.deactivated`)} is null`;

/** The scope's node filter: active nodes only, unless the query chose a node_state. */
export const nodeScope = (alias: string, q: IngestQuery): Raw[] => (q.includeDeactivated ? [] : [active(alias)]);

/** node_state of the node under `alias`: PuppetDB's 'active' or 'inactive' (muster has no expiry, so deactivation decides). */
export const nodeState = (alias: string): Col => ({
  type: 'state',
  sql: sql`case when ${ref(`${alias}.deactivated`)} is null then 'active' else 'inactive' end`,
});

/**
 * What the query compiler asks of the database it runs on: the value at a
 * path of a JSON document, and membership in a long list of values passed as
 * one parameter (so a 10,000-value `in` is one comparison, not a 10,000-deep
 * tree of `or`s, which SQLite refuses past 1,000).
 */
export interface QueryDialect {
  valueAt(doc: Raw, path: FactPath): Col;
  inList(c: Raw, values: string[] | number[], kind: 'text' | 'number'): Raw;
}
