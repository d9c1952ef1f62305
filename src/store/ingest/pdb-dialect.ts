import { sql } from 'kysely';
import type { FactPath } from '../../core/ingest/query.js';
import type { DialectName } from '../dialect.js';
import type { QueryDialect, Raw } from './pdb-columns.js';
import { postgresValueOf, sqliteValueOf } from './pdb-facts.js';

/**
 * A path inside a document is written into the SQL as a literal, not bound:
 * one `["fact", …]` term reads its value in several places, and as
 * parameters a 10,000-term query would pass SQLite's 32,766 bound-parameter
 * limit. Kysely's literal doubles single quotes; the parser refuses NUL.
 */
const lit = (text: string) => sql.lit(text) as Raw;

/** SQLite's JSON path: `$."os"."release"[0]` (labels quoted with JSON's escapes, which SQLite reads). */
const sqlitePath = (path: FactPath) => lit(`$${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${JSON.stringify(p)}`)).join('')}`);

const sqlite: QueryDialect = {
  valueAt(doc, path) {
    const p = sqlitePath(path);
    const extracted = sql`json_extract(${doc}, ${p})`;
    return sqliteValueOf(sql`json_type(${doc}, ${p})`, extracted, extracted);
  },
  // One JSON array parameter, unpacked by json_each: its values keep their JSON types (text, integer, real).
  inList: (c, values) => sql`${c} in (select value from json_each(${JSON.stringify(values)}))`,
};

const postgres: QueryDialect = {
  valueAt(doc, path) {
    const elements = sql.join(path.map((p) => lit(String(p))));
    return postgresValueOf(sql`(cast(${doc} as jsonb) #> cast(array[${elements}] as text[]))`);
  },
  // One array parameter (node-postgres sends a JavaScript array as a PostgreSQL array literal).
  inList: (c, values, kind) => (kind === 'number' ? sql`${c} = any(cast(${values} as double precision[]))` : sql`${c} = any(cast(${values} as text[]))`),
};

export const QUERY_DIALECTS: Readonly<Record<DialectName, QueryDialect>> = Object.freeze({ sqlite, postgres });
