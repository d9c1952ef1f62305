import { MusterError } from '../errors.js';
import { ENTITY_FIELDS, fieldType, type FieldType, type QueryEntity } from './query-fields.js';
import { regexProblem } from '../../lib/safe-regex.js';

export { ENTITY_FIELDS, fieldType, QUERY_ENTITIES, type FieldType, type QueryEntity } from './query-fields.js';

/** A parsed boolean expression of PuppetDB's query AST (the supported subset). */
export type QueryExpr =
  | { op: 'and' | 'or'; items: QueryExpr[] }
  | { op: 'not'; item: QueryExpr }
  | { op: '=' | '<' | '>' | '<=' | '>='; field: string; type: FieldType; value: unknown }
  | { op: '~'; field: string; type: FieldType; pattern: string }
  | { op: 'null?'; field: string; type: FieldType; isNull: boolean }
  | { op: 'in'; field: string; type: FieldType; values: unknown[] };

/** One query over one entity, ready for the store to compile to SQL. */
export interface IngestQuery {
  entity: QueryEntity;
  filter: QueryExpr | undefined;
  /** `extract`: the fields to keep, and with count the counts per group. */
  extract: { fields: string[]; count: boolean; groupBy: string[] } | undefined;
  limit: number | undefined;
  offset: number;
  orderBy: Array<{ field: string; order: 'asc' | 'desc' }>;
  /** Nodes: deactivated ones are included only when the query asks about deactivation. */
  includeDeactivated: boolean;
}

/** What a face hands over: PuppetDB's parameters, the query still as decoded JSON. */
export interface QueryInput {
  query: unknown;
  limit: number | undefined;
  offset: number;
  orderBy: Array<{ field: string; order: 'asc' | 'desc' }>;
  /** Equalities a path implies (`facts/<name>/<value>`), anded with the query. */
  where?: Record<string, unknown>;
}

/** A PuppetDB 400: the message is what PuppetDB's clients see. */
function bad(message: string): never {
  throw new MusterError('INVALID_ARGUMENT', message);
}

// Deeper ASTs are not written by people; the cap keeps recursion (here and in SQL) bounded.
const MAX_DEPTH = 64;

class Parser {
  readonly mentions = new Set<string>();
  constructor(private readonly entity: QueryEntity) {}

  field(v: unknown): { field: string; type: FieldType } {
    if (typeof v !== 'string') bad(`A query field must be a string, got ${JSON.stringify(v)}`);
    const type = fieldType(this.entity, v);
    if (!type) bad(`'${v}' is not a queryable object for ${this.entity}. Known queryable objects are ${JSON.stringify(Object.keys(ENTITY_FIELDS[this.entity]))}`);
    this.mentions.add(v);
    return { field: v, type };
  }

  binary(op: '=' | '<' | '>' | '<=' | '>=' | '~' | 'null?', args: unknown[]): QueryExpr {
    if (args.length !== 2) bad(`${op} requires exactly two arguments, but ${args.length} were supplied`);
    const f = this.field(args[0]);
    const value = args[1];
    if (op === '~') {
      if (typeof value !== 'string') bad('~ requires a string regular expression');
      const problem = regexProblem(value);
      if (problem) bad(`${problem}: ${value.slice(0, 100)}`);
      return { op, ...f, pattern: value };
    }
    if (op === 'null?') {
      if (typeof value !== 'boolean') bad('null? requires a boolean');
      return { op, ...f, isNull: value };
    }
    return { op, ...f, value };
  }

  in(args: unknown[]): QueryExpr {
    const fields = Array.isArray(args[0]) ? args[0] : [args[0]];
    if (fields.length !== 1) bad('in with several fields needs a subquery, which is not supported');
    const f = this.field(fields[0]);
    const list = args[1];
    if (!Array.isArray(list) || list[0] !== 'array' || !Array.isArray(list[1])) bad('in requires ["array", [values…]] (subqueries are not supported)');
    return { op: 'in', ...f, values: list[1] as unknown[] };
  }

  expr(e: unknown, depth = 0): QueryExpr {
    if (depth > MAX_DEPTH) bad('The query is nested too deeply');
    if (!Array.isArray(e) || typeof e[0] !== 'string') bad(`A query must be an array starting with an operator, got ${JSON.stringify(e)}`);
    const [op, ...args] = e as [string, ...unknown[]];
    switch (op) {
      case 'and':
      case 'or':
        return { op, items: args.map((a) => this.expr(a, depth + 1)) };
      case 'not':
        if (args.length !== 1) bad(`not requires exactly one argument, but ${args.length} were supplied`);
        return { op, item: this.expr(args[0], depth + 1) };
      case '=':
      case '<':
      case '>':
      case '<=':
      case '>=':
      case '~':
      case 'null?':
        return this.binary(op, args);
      case 'in':
        return this.in(args);
      default:
        return bad(`${op} is not a queryable operator (supported: =, <, >, <=, >=, ~, null?, and, or, not, in, extract)`);
    }
  }

  extractFields(spec: unknown): { fields: string[]; count: boolean } {
    const items = Array.isArray(spec) && spec[0] !== 'function' ? spec : [spec];
    let count = false;
    const fields: string[] = [];
    for (const item of items) {
      if (Array.isArray(item) && item[0] === 'function') {
        if (item[1] !== 'count') bad(`Unsupported function ${JSON.stringify(item[1])} (only count)`);
        count = true;
      } else if (typeof item === 'string') fields.push(this.field(item).field);
      else bad(`extract fields must be names or ["function","count"], got ${JSON.stringify(item)}`);
    }
    return { fields, count };
  }
}

/**
 * Parses PuppetDB's query parameters for one entity: a filter, or
 * `["extract", fields, filter?, ["group_by", …]?]`, with paging. Unknown
 * operators, fields and malformed terms are INVALID_ARGUMENT with PuppetDB's
 * wording, so no bad query reaches the database.
 */
export function parseIngestQuery(entity: QueryEntity, input: QueryInput): IngestQuery {
  const p = new Parser(entity);
  let filter: QueryExpr | undefined;
  let extract: IngestQuery['extract'];
  const query = input.query;
  if (Array.isArray(query) && query[0] === 'extract') {
    const { fields, count } = p.extractFields(query[1]);
    let groupBy: string[] = [];
    for (const part of query.slice(2) as unknown[]) {
      if (Array.isArray(part) && part[0] === 'group_by') groupBy = part.slice(1).map((g) => p.field(g).field);
      else filter = p.expr(part);
    }
    extract = { fields, count, groupBy };
  } else if (query !== undefined && query !== null) filter = p.expr(query);
  const implied = Object.entries(input.where ?? {}).map(([field, value]) => p.binary('=', [field, value]));
  if (implied.length > 0) filter = { op: 'and', items: filter ? [...implied, filter] : implied };
  for (const o of input.orderBy) {
    if (!fieldType(entity, o.field)) bad(`Unrecognized column '${o.field}' specified in :order_by; Supported columns are ${JSON.stringify(Object.keys(ENTITY_FIELDS[entity]))}`);
  }
  const includeDeactivated = p.mentions.has('deactivated') || p.mentions.has('node_state');
  return { entity, filter, extract, limit: input.limit, offset: input.offset, orderBy: input.orderBy, includeDeactivated };
}
