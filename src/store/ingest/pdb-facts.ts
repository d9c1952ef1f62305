import { sql } from 'kysely';
import type { IngestQuery, QueryEntity } from '../../core/ingest/index.js';
import type { DialectName } from '../dialect.js';
import { col, nodeScope, nodeState, ref, type Col, type Raw, type Row, type Source, type ValueParts } from './pdb-columns.js';

/**
 * Facts and fact contents are read out of each node's stored facts document
 * (`ingest_nodes.facts`) by the database's own JSON functions, as PuppetDB
 * reads its factsets: nothing is derived when facts are stored, so a "replace
 * facts" writes one row. SQLite walks the document with `json_each` and
 * `json_tree`, PostgreSQL with `jsonb_each` and `muster_fact_leaves`
 * (migration 0010); both give the same columns, so the query compiler
 * (pdb-query.ts) does not know which it runs on.
 */

const FALSE = sql`1 = 0`;

/**
 * A SQLite JSON value as a fact value, from its json_type (`type`), its SQL
 * value (`atom`: text, number, or JSON text for a structure) and its JSON
 * text when a structure (`value`).
 */
export function sqliteValueOf(type: Raw, atom: Raw, value: Raw): Col {
  const parts: ValueParts = {
    type: sql`case ${type} when 'text' then 'string' when 'integer' then 'number' when 'real' then 'number' when 'true' then 'boolean' when 'false' then 'boolean' else ${type} end`,
    string: sql`case when ${type} = 'text' then ${atom} end`,
    number: sql`case when ${type} in ('integer', 'real') then ${atom} end`,
    scalarText: sql`case when ${type} in ('true', 'false') then ${type} when ${type} in ('integer', 'real') then cast(${atom} as text) end`,
  };
  return {
    type: 'value',
    // The value as JSON text: structures as stored, scalars quoted by their type.
    sql: sql`case when ${type} in ('object', 'array') then ${value} when ${type} = 'text' then json_quote(${atom}) when ${type} in ('true', 'false', 'null') then ${type} else cast(${atom} as text) end`,
    value: parts,
    // Structures are stored as JSON.stringify wrote them, so equal structures (in the same key order) have equal text.
    equalsJson: (v) => sql`(${type} in ('object', 'array') and ${value} = ${JSON.stringify(v)})`,
  };
}

/** A row of SQLite's json_each/json_tree, as a fact value. */
function sqliteValue(alias: string): Col {
  const f = (c: string) => ref(`${alias}.${c}`);
  return sqliteValueOf(f('type'), f('atom'), f('value'));
}

/** A jsonb value of PostgreSQL, as a fact value. */
export function postgresValueOf(v: Raw): Col {
  return {
    type: 'value',
    sql: sql`cast(${v} as text)`,
    value: {
      type: sql`jsonb_typeof(${v})`,
      string: sql`case when jsonb_typeof(${v}) = 'string' then ${v} #>> '{}' end`,
      number: sql`case when jsonb_typeof(${v}) = 'number' then cast(${v} #>> '{}' as double precision) end`,
      scalarText: sql`case when jsonb_typeof(${v}) in ('number', 'boolean') then ${v} #>> '{}' end`,
    },
    equalsJson: (json) => sql`${v} = cast(${JSON.stringify(json)} as jsonb)`,
  };
}

/** A jsonb value column of PostgreSQL, as a fact value. */
const postgresValue = (alias: string): Col => postgresValueOf(ref(`${alias}.value`));

/** A path equals a query's path: the first element is the fact's name, which narrows the walk before any path is built. */
function pathEquals(v: unknown, name: Raw, samePath: (json: string) => Raw): Raw {
  return Array.isArray(v) && typeof v[0] === 'string' ? sql`(${name} = ${v[0]} and ${samePath(JSON.stringify(v))})` : FALSE;
}

interface Walk {
  /** Nodes joined to their top-level facts (alias t for contents, f for facts). */
  facts: Raw;
  /** Nodes joined to their top-level facts t and each one's leaves f. */
  leaves: Raw;
  /** Only the leaves of the walk (an empty map or array is a leaf). */
  leafOnly: Raw;
  value(alias: string): Col;
  path: Col;
  pathOrder: Raw;
}

const WALKS: Record<DialectName, Walk> = {
  sqlite: {
    facts: sql`ingest_nodes n, json_each(n.facts) f`,
    leaves: sql`ingest_nodes n, json_each(n.facts) t, json_tree(n.facts, t.fullkey) f`,
    leafOnly: sql`(f.type not in ('object', 'array') or f.value in ('{}', '[]'))`,
    value: sqliteValue,
    // muster_json_path (store/ingest/sqlite-functions.ts) turns json_tree's '$.os."a.b"[0]' into ["os","a.b",0].
    path: {
      type: 'path',
      sql: sql`muster_json_path(f.fullkey)`,
      equalsJson: (v) => pathEquals(v, sql`t.key`, (json) => sql`muster_json_path(f.fullkey) = ${json}`),
    },
    pathOrder: sql`f.fullkey`,
  },
  postgres: {
    facts: sql`ingest_nodes n, jsonb_each(cast(n.facts as jsonb)) f`,
    leaves: sql`ingest_nodes n, jsonb_each(cast(n.facts as jsonb)) t, muster_fact_leaves(t.key, t.value) f`,
    leafOnly: sql`1 = 1`,
    value: postgresValue,
    path: { type: 'path', sql: sql`cast(f.path as text)`, equalsJson: (v) => pathEquals(v, sql`t.key`, (json) => sql`f.path = cast(${json} as jsonb)`) },
    pathOrder: sql`f.path`,
  },
};

const scope = (org: string, q: IngestQuery) => [sql`n.organization_id = ${org}`, ...nodeScope('n', q)];
const parse = (text: unknown) => JSON.parse(String(text)) as unknown;

/** The facts and fact-contents sources for one database. */
export function factSources(dialect: DialectName): { facts: Source<'facts'>; 'fact-contents': Source<'fact-contents'> } {
  const w = WALKS[dialect];
  const factFields: Record<string, Col> = {
    certname: col('text', 'n.certname'),
    name: col('text', 'f.key'),
    value: w.value('f'),
    environment: col('text', 'n.facts_environment'),
    node_state: nodeState('n'),
  };
  const facts: Source<'facts'> = {
    from: w.facts,
    scope,
    facts: ref('n.facts'),
    field: (name) => factFields[name],
    select: sql`n.certname, f.key as name, n.facts_environment as environment, ${factFields.value!.sql} as value`,
    order: [ref('n.certname'), ref('f.key')],
    decode: (r: Row) => ({ certname: r.certname as string, name: r.name as string, value: parse(r.value), environment: r.environment as string | null }),
  };
  const leafFields: Record<string, Col> = { ...factFields, name: col('text', 't.key'), path: w.path };
  const contents: Source<'fact-contents'> = {
    from: w.leaves,
    scope: (org, q) => [...scope(org, q), w.leafOnly],
    facts: ref('n.facts'),
    field: (name) => leafFields[name],
    select: sql`n.certname, n.facts_environment as environment, t.key as name, ${w.path.sql} as path, ${leafFields.value!.sql} as value`,
    order: [ref('n.certname'), w.pathOrder],
    decode: (r: Row) => ({
      certname: r.certname as string,
      environment: r.environment as string | null,
      path: parse(r.path) as Array<string | number>,
      name: r.name as string,
      value: parse(r.value),
    }),
  };
  return { facts, 'fact-contents': contents } satisfies Partial<{ [E in QueryEntity]: Source<E> }>;
}
