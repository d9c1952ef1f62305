import { MusterError } from '../errors.js';
import { ENTITY_FIELDS, fieldType, QUERY_ENTITIES, type FieldType, type QueryEntity } from './query-fields.js';
import { regexProblem } from '../../lib/safe-regex.js';
import { parsePql } from './pql.js';

export { ENTITY_FIELDS, fieldType, QUERY_ENTITIES, type FieldType, type IngestEventRow, type IngestInventoryRow, type QueryEntity } from './query-fields.js';

/** A place inside a node's facts document: `["fact", "kernel"]`, or `facts.os.family` / `trusted.certname` on inventory. */
export type FactPath = Array<string | number>;

/**
 * A parsed boolean expression of PuppetDB's query AST (the supported subset).
 * A comparison with `path` compares the value at that path of the node's
 * facts instead of a column of the entity.
 */
export type QueryExpr =
  | { op: 'and' | 'or'; items: QueryExpr[] }
  | { op: 'not'; item: QueryExpr }
  | { op: '=' | '<' | '>' | '<=' | '>='; field: string; type: FieldType; value: unknown; path?: FactPath }
  | { op: '~'; field: string; type: FieldType; pattern: string; path?: FactPath }
  | { op: 'null?'; field: string; type: FieldType; isNull: boolean; path?: FactPath }
  | { op: 'in'; field: string; type: FieldType; values: unknown[]; path?: FactPath };

/** One query over one entity, ready for the store to compile to SQL. */
export interface IngestQuery {
  entity: QueryEntity;
  filter: QueryExpr | undefined;
  /** `extract`: the fields to keep, and with count the counts per group. */
  extract: { fields: string[]; count: boolean; groupBy: string[] } | undefined;
  limit: number | undefined;
  offset: number;
  orderBy: Array<{ field: string; order: 'asc' | 'desc' }>;
  /** Rows of deactivated nodes are included only when the query asks about node_state (or, on nodes, deactivation). */
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

/**
 * The bounds of one query. Deeper ASTs are not written by people, and the
 * cap keeps recursion (here and in SQL) bounded; 10,000 terms (a comparison,
 * or one value of an `in` array) keep every query under both databases'
 * bound-parameter limits (SQLite 32,766, PostgreSQL 65,535) with room to spare.
 * Equalities on one field are answered as one list, whatever their number;
 * `~`, `<`, `>`, `<=` and `>=` are each evaluated row by row, so at most
 * 1,000 of them (10,000 regular expressions over 300 facts took 29 s on SQLite,
 * 1,000 about 1.4 s).
 */
export const QUERY_LIMITS = Object.freeze({ maxDepth: 64, maxTerms: 10_000, maxRowByRowTerms: 1_000 });

const NODE_STATES = new Set(['active', 'inactive', 'any']);

type Field = { field: string; type: FieldType; path?: FactPath };

/** A dotted inventory field (`facts.os.family`, `trusted.extensions."pp_role"`, `facts.processors.models[0]`) as a path. */
function dottedPath(field: string): FactPath {
  const path: FactPath = [];
  let i = 0;
  while (i < field.length) {
    let name: string;
    if (field[i] === '"') {
      const end = field.indexOf('"', i + 1);
      if (end < 0) bad(`Unterminated quoted segment in field ${field}`);
      name = field.slice(i + 1, end);
      i = end + 1;
    } else {
      const m = /^[^.[\]"]+/.exec(field.slice(i));
      if (!m) bad(`'${field}' is not a valid dotted field`);
      name = m[0];
      i += name.length;
    }
    path.push(name);
    while (field[i] === '[') {
      const m = /^\[(\d+)\]/.exec(field.slice(i));
      if (!m) bad(`'${field}' is not a valid dotted field (only [<index>] and plain or quoted names are supported)`);
      path.push(Number(m[1]));
      i += m[0].length;
    }
    if (i < field.length) {
      if (field[i] !== '.') bad(`'${field}' is not a valid dotted field`);
      i++;
    }
  }
  return path;
}

class Parser {
  readonly mentions = new Set<string>();
  private terms = 0;
  constructor(private readonly entity: QueryEntity) {}

  private rowByRow = 0;

  private countTerms(n: number, op = '='): void {
    this.terms += n;
    if (this.terms > QUERY_LIMITS.maxTerms)
      bad(
        `Query too large: more than ${QUERY_LIMITS.maxTerms} terms (muster's limit for one query; each comparison and each value of an 'in' array is a term)`,
      );
    if (op === '=' || op === 'in' || op === 'null?') return;
    this.rowByRow += n;
    if (this.rowByRow > QUERY_LIMITS.maxRowByRowTerms)
      bad(`Query too large: more than ${QUERY_LIMITS.maxRowByRowTerms} terms with ~, <, >, <= or >= (muster's limit for one query)`);
  }

  private unknown(v: string): never {
    return bad(`'${v}' is not a queryable object for ${this.entity}. Known queryable objects are ${JSON.stringify(Object.keys(ENTITY_FIELDS[this.entity]))}`);
  }

  field(v: unknown): Field {
    if (Array.isArray(v) && v.length === 2 && v[0] === 'fact' && typeof v[1] === 'string') {
      if (v[1].includes('\u0000')) bad('A fact name may not contain NUL');
      return { field: 'fact', type: 'value', path: [v[1]] };
    }
    if (typeof v !== 'string') bad(`A query field must be a string, ["fact", <name>] or ["node", "active"], got ${JSON.stringify(v)}`);
    const type = fieldType(this.entity, v);
    if (type) {
      this.mentions.add(v);
      return { field: v, type };
    }
    const dotted = /^(facts|trusted)\.(.+)$/s.exec(v);
    if (this.entity === 'inventory' && dotted) {
      if (v.includes('\u0000')) bad('A field may not contain NUL');
      const rest = dottedPath(dotted[2]!);
      return { field: v, type: 'value', path: dotted[1] === 'trusted' ? ['trusted', ...rest] : rest };
    }
    return this.unknown(v);
  }

  /** `["=", ["node", "active"], true]` is `["=", "node_state", "active"]`; node_state takes only `=`. */
  private nodeState(op: string, args: unknown[]): QueryExpr {
    const [f, value] = args;
    this.mentions.add('node_state');
    if (op !== '=') bad(`Operator '${op}' not allowed on node_state (only =)`);
    if (Array.isArray(f)) {
      if (typeof value !== 'boolean') bad('["node", "active"] takes true or false');
      return { op, field: 'node_state', type: 'state', value: value ? 'active' : 'inactive' };
    }
    const s = typeof value === 'string' ? value.toLowerCase() : '';
    if (!NODE_STATES.has(s)) bad(`node_state must be "active", "inactive" or "any", got ${JSON.stringify(value)}`);
    return { op, field: 'node_state', type: 'state', value: s };
  }

  binary(op: '=' | '<' | '>' | '<=' | '>=' | '~' | 'null?', args: unknown[]): QueryExpr {
    if (args.length !== 2) bad(`${op} requires exactly two arguments, but ${args.length} were supplied`);
    this.countTerms(1, op);
    const isNodeActive = Array.isArray(args[0]) && args[0].length === 2 && args[0][0] === 'node' && args[0][1] === 'active';
    if (isNodeActive || args[0] === 'node_state') return this.nodeState(op, args);
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
    // PuppetDB compares ["fact", …] with <, >, <=, >= only against numbers.
    if (op !== '=' && f.field === 'fact' && typeof value !== 'number') bad(`Operator '${op}' not allowed on value '${String(value)}'`);
    return { op, ...f, value };
  }

  in(args: unknown[]): QueryExpr {
    if (args.length !== 2) bad(`in requires exactly two arguments, but ${args.length} were supplied`);
    const structured = Array.isArray(args[0]) && args[0].length === 2 && args[0][0] === 'fact';
    const fields = Array.isArray(args[0]) && !structured ? args[0] : [args[0]];
    if (fields.length !== 1) bad('in with several fields needs a subquery, which is not supported');
    if (fields[0] === 'node_state') bad("Operator 'in' not allowed on node_state (only =)");
    const f = this.field(fields[0]);
    const list = args[1];
    if (!Array.isArray(list) || list[0] !== 'array' || !Array.isArray(list[1])) bad('in requires ["array", [values…]] (subqueries are not supported)');
    const values = list[1] as unknown[];
    this.countTerms(Math.max(1, values.length), 'in');
    if (structured && new Set(values.map((v) => typeof v)).size > 1) bad("All values in 'array' must be the same type.");
    return { op: 'in', ...f, values };
  }

  expr(e: unknown, depth = 0): QueryExpr {
    if (depth >= QUERY_LIMITS.maxDepth) bad(`Query nested too deeply: more than ${QUERY_LIMITS.maxDepth} levels (muster's limit for one query)`);
    if (!Array.isArray(e) || typeof e[0] !== 'string') bad(`A query must be an array starting with an operator, got ${JSON.stringify(e)?.slice(0, 200)}`);
    const [op, ...args] = e as [string, ...unknown[]];
    switch (op) {
      case 'and':
      case 'or':
        if (args.length === 0) bad(`'${op}' takes at least one argument, but none were supplied`);
        return { op, items: args.map((a) => this.expr(a, depth + 1)) };
      case 'not':
        if (args.length !== 1) bad(`'not' takes exactly one argument, but ${args.length} were supplied`);
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
      } else if (typeof item === 'string' && fieldType(this.entity, item)) fields.push(this.field(item).field);
      else bad(`extract fields must be names of ${this.entity} fields or ["function","count"], got ${JSON.stringify(item)}`);
    }
    return { fields, count };
  }
}

/**
 * Parses PuppetDB's query parameters for one entity: a filter, or
 * `["extract", fields, filter?, ["group_by", …]?]`, with paging. Unknown
 * operators, fields and malformed terms are INVALID_ARGUMENT with PuppetDB's
 * wording, so no bad query reaches the database; so is a query past
 * QUERY_LIMITS.
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
      if (Array.isArray(part) && part[0] === 'group_by')
        groupBy = part
          .slice(1)
          .map((g) => (typeof g === 'string' && fieldType(entity, g) ? g : bad(`group_by takes field names of ${entity}, got ${JSON.stringify(g)}`)));
      else filter = p.expr(part);
    }
    extract = { fields, count, groupBy };
  } else if (query !== undefined && query !== null) filter = p.expr(query);
  const implied = Object.entries(input.where ?? {}).map(([field, value]) => p.binary('=', [field, value]));
  if (implied.length > 0) filter = { op: 'and', items: filter ? [...implied, filter] : implied };
  for (const o of input.orderBy) {
    if (!fieldType(entity, o.field))
      bad(`Unrecognized column '${o.field}' specified in :order_by; Supported columns are ${JSON.stringify(Object.keys(ENTITY_FIELDS[entity]))}`);
  }
  const includeDeactivated = p.mentions.has('node_state') || (entity === 'nodes' && p.mentions.has('deactivated'));
  return { entity, filter, extract, limit: input.limit, offset: input.offset, orderBy: input.orderBy, includeDeactivated };
}

/** An entity's name in `from` and PQL (PuppetDB spells fact contents with an underscore there). */
function entityOf(name: unknown): QueryEntity {
  const e = typeof name === 'string' ? name.replace(/_/g, '-') : name;
  if (typeof e === 'string' && (QUERY_ENTITIES as readonly string[]).includes(e)) return e as QueryEntity;
  return bad(`${JSON.stringify(name)} is not a queryable entity; muster answers ${QUERY_ENTITIES.map((x) => x.replace('-', '_')).join(', ')}`);
}

function count(v: unknown, what: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0) bad(`'${what}' takes a non-negative integer, got ${JSON.stringify(v)}`);
  return v as number;
}

function orderClause(v: unknown): QueryInput['orderBy'] {
  if (!Array.isArray(v)) bad('order_by takes an array of fields or [field, "asc"|"desc"] pairs');
  return v.map((o: unknown) => {
    if (typeof o === 'string') return { field: o, order: 'asc' as const };
    if (Array.isArray(o) && typeof o[0] === 'string' && typeof o[1] === 'string' && /^(asc|desc)$/i.test(o[1]))
      return { field: o[0], order: o[1].toLowerCase() as 'asc' | 'desc' };
    return bad(`order_by takes fields or [field, "asc"|"desc"] pairs, got ${JSON.stringify(o)}`);
  });
}

/**
 * Parses a query to the root endpoint: `["from", entity, query?, paging…]`,
 * or a PQL string (translated to the same AST). The paging clauses of the
 * query come after any given as parameters. Returns the entity and the query
 * over it, for parseIngestQuery.
 */
export function parseRootQuery(input: QueryInput): { entity: QueryEntity; input: QueryInput } {
  if (input.query === undefined || input.query === null || input.query === '') bad("Missing required query parameter 'query'");
  const ast = typeof input.query === 'string' ? parsePql(input.query) : input.query;
  if (!Array.isArray(ast) || ast[0] !== 'from') bad('A query to the root endpoint must start with "from" (["from", "<entity>", …]) or be a PQL string');
  if (ast.length < 2) bad("'from' takes an entity");
  const entity = entityOf(ast[1]);
  const out: QueryInput = { ...input, query: undefined };
  for (const clause of ast.slice(2) as unknown[][]) {
    const head = Array.isArray(clause) ? clause[0] : undefined;
    if (head === 'limit') out.limit = count(clause[1], 'limit');
    else if (head === 'offset') out.offset = count(clause[1], 'offset');
    else if (head === 'order_by') out.orderBy = orderClause(clause[1]);
    else if (out.query === undefined) out.query = clause;
    else bad(`'from' takes one query and paging clauses, got a second: ${JSON.stringify(clause).slice(0, 200)}`);
  }
  return { entity, input: out };
}
