import { PdbError } from '../errors.js';

export type Row = Record<string, unknown>;

/** A compiled query: a filter, and (for extract) a projection with optional count and grouping. */
export interface CompiledQuery {
  filter: (row: Row) => boolean;
  extract?: { fields: string[]; count: boolean; groupBy: string[] };
  /** Field names the filter mentions (nodes include deactivated ones when `deactivated` is asked about). */
  mentions: Set<string>;
}

function bad(message: string): never {
  throw new PdbError(400, message, true);
}

/** A field of a row; dotted paths reach into structured values (parameters.ensure). */
export function get(row: Row, field: string): unknown {
  if (Object.hasOwn(row, field)) return row[field];
  let v: unknown = row;
  for (const part of field.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Row)[part];
  }
  return v;
}

const ISO = /^\d{4}-\d{2}-\d{2}T/;

function comparable(a: unknown, b: unknown): [number | string, number | string] | undefined {
  if (typeof a === 'number' && (typeof b === 'number' || (typeof b === 'string' && b.trim() !== '' && !Number.isNaN(Number(b))))) return [a, Number(b)];
  if (typeof a === 'string' && typeof b === 'string') {
    if (ISO.test(a) && !Number.isNaN(Date.parse(b))) return [Date.parse(a), Date.parse(b)];
    return [a, b];
  }
  return undefined;
}

function equal(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string' && ISO.test(a) && ISO.test(b)) return Date.parse(a) === Date.parse(b);
  if ((typeof a === 'number' || typeof a === 'boolean') && typeof b === 'string') return String(a) === b;
  return JSON.stringify(a) === JSON.stringify(b);
}

function field(v: unknown, mentions: Set<string>): string {
  if (typeof v !== 'string') bad(`A query field must be a string, got ${JSON.stringify(v)}`);
  mentions.add(v);
  return v;
}

type Cmp = (x: number | string, y: number | string) => boolean;
const ORDER: Record<string, Cmp> = { '<': (x, y) => x < y, '>': (x, y) => x > y, '<=': (x, y) => x <= y, '>=': (x, y) => x >= y };

function regex(value: unknown): RegExp {
  if (typeof value !== 'string') bad('~ requires a string regular expression');
  try {
    return new RegExp(value);
  } catch {
    return bad(`Invalid regular expression: ${value}`);
  }
}

function binary(op: string, args: unknown[], mentions: Set<string>): (row: Row) => boolean {
  if (args.length !== 2) bad(`${op} requires exactly two arguments, but ${args.length} were supplied`);
  const f = field(args[0], mentions);
  const value = args[1];
  if (op === '=') return (row) => equal(get(row, f), value);
  if (op === '~') {
    const re = regex(value);
    return (row) => {
      const v = get(row, f);
      return typeof v === 'string' && re.test(v);
    };
  }
  if (op === 'null?') {
    if (typeof value !== 'boolean') bad('null? requires a boolean');
    return (row) => (get(row, f) === null || get(row, f) === undefined) === value;
  }
  const test = ORDER[op]!;
  return (row) => {
    const pair = comparable(get(row, f), value);
    return pair !== undefined && test(pair[0], pair[1]);
  };
}

function inArray(args: unknown[], mentions: Set<string>): (row: Row) => boolean {
  const fields = Array.isArray(args[0]) ? args[0] : [args[0]];
  if (fields.length !== 1) bad('in with several fields needs a subquery, which is not supported');
  const f = field(fields[0], mentions);
  const list = args[1];
  if (!Array.isArray(list) || list[0] !== 'array' || !Array.isArray(list[1])) bad('in requires ["array", [values…]] (subqueries are not supported)');
  const values = list[1] as unknown[];
  return (row) => values.some((v) => equal(get(row, f), v));
}

/** Compiles a boolean query expression. */
export function compileFilter(expr: unknown, mentions: Set<string>, depth = 0): (row: Row) => boolean {
  if (depth > 64) bad('The query is nested too deeply');
  if (!Array.isArray(expr) || typeof expr[0] !== 'string') bad(`A query must be an array starting with an operator, got ${JSON.stringify(expr)}`);
  const [op, ...args] = expr as [string, ...unknown[]];
  switch (op) {
    case 'and':
    case 'or': {
      const parts = args.map((a) => compileFilter(a, mentions, depth + 1));
      return op === 'and' ? (row) => parts.every((p) => p(row)) : (row) => parts.some((p) => p(row));
    }
    case 'not': {
      if (args.length !== 1) bad(`not requires exactly one argument, but ${args.length} were supplied`);
      const inner = compileFilter(args[0], mentions, depth + 1);
      return (row) => !inner(row);
    }
    case '=':
    case '<':
    case '>':
    case '<=':
    case '>=':
    case '~':
    case 'null?':
      return binary(op, args, mentions);
    case 'in':
      return inArray(args, mentions);
    default:
      return bad(`${op} is not a queryable operator (supported: =, <, >, <=, >=, ~, null?, and, or, not, in, extract)`);
  }
}

function extractFields(spec: unknown): { fields: string[]; count: boolean } {
  const items = Array.isArray(spec) && spec[0] !== 'function' ? spec : [spec];
  let count = false;
  const fields: string[] = [];
  for (const item of items) {
    if (Array.isArray(item) && item[0] === 'function') {
      if (item[1] !== 'count') bad(`Unsupported function ${JSON.stringify(item[1])} (only count)`);
      count = true;
    } else if (typeof item === 'string') fields.push(item);
    else bad(`extract fields must be names or ["function","count"], got ${JSON.stringify(item)}`);
  }
  return { fields, count };
}

/** Compiles a whole query: a filter, or `["extract", fields, filter?, ["group_by", …]?]`. */
export function compileQuery(query: unknown): CompiledQuery {
  const mentions = new Set<string>();
  if (query === undefined || query === null) return { filter: () => true, mentions };
  if (Array.isArray(query) && query[0] === 'extract') {
    const { fields, count } = extractFields(query[1]);
    let filter: (row: Row) => boolean = () => true;
    let groupBy: string[] = [];
    for (const part of query.slice(2) as unknown[]) {
      if (Array.isArray(part) && part[0] === 'group_by') groupBy = part.slice(1).map((g) => field(g, mentions));
      else filter = compileFilter(part, mentions);
    }
    return { filter, extract: { fields, count, groupBy }, mentions };
  }
  return { filter: compileFilter(query, mentions), mentions };
}

/** Projects rows for extract: the fields, or counts (grouped when asked). */
export function project(rows: Row[], extract: NonNullable<CompiledQuery['extract']>): Row[] {
  const pick = (row: Row) => Object.fromEntries(extract.fields.map((f) => [f, get(row, f)]));
  if (!extract.count) return rows.map(pick);
  if (extract.groupBy.length === 0) return [{ count: rows.length }];
  const groups = new Map<string, { row: Row; count: number }>();
  for (const row of rows) {
    const key = JSON.stringify(extract.groupBy.map((g) => get(row, g)));
    const g = groups.get(key) ?? { row: pick(row), count: 0 };
    g.count++;
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => ({ ...g.row, count: g.count }));
}
