import { sql, type RawBuilder } from 'kysely';
import type { FieldType, IngestQuery, QueryEntity, QueryRows } from '../../core/ingest/index.js';

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
  /** Always applied: the organization, and for most entities active nodes only. */
  scope(org: string, q: IngestQuery): Raw[];
  field(name: string): Col | undefined;
  /** The row's columns, for pages of whole rows. */
  select: Raw;
  /** Stable order, also the tie-break after order_by so pages never overlap. */
  order: Raw[];
  decode(row: Row): QueryRows[E];
}

export const ref = (r: string) => sql.ref(r) as Raw;
export const col = (type: FieldType, r: string, storage?: Col['storage']): Col => ({ type, sql: ref(r), ...(storage ? { storage } : {}) });
/** Active nodes only: deactivated ones leave every query but `nodes` with node_state. */
export const active = (alias: string) => sql`${ref(`${alias}.deactivated`)} is null`;
