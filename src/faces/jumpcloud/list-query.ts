import Type, { type Static } from 'typebox';
import { invalid } from '../../core/errors.js';

/**
 * JumpCloud v1 list parameters, parsed once for every listing (systems,
 * command results, system users): `limit`, `skip`, `sort`, `fields`, `filter`.
 * Names from a request are looked up only among a listing's own, known keys,
 * so `sort=__proto__` is a 400 naming the field, never a prototype's property.
 */

/** The query string of a JumpCloud v1 listing; numbers arrive as text and are checked by `paging`. */
export const V1ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ maxLength: 16 })),
    skip: Type.Optional(Type.String({ maxLength: 16 })),
    sort: Type.Optional(Type.String({ maxLength: 512 })),
    fields: Type.Optional(Type.String({ maxLength: 1024 })),
    filter: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 20 })])),
  },
  { additionalProperties: false },
);

export type V1ListParams = Static<typeof V1ListQuery>;

/** `map[name]` when `name` is one of the map's own keys. */
export function ownValue<T>(map: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(map, name) ? map[name] : undefined;
}

/** JumpCloud separates list fields by spaces (its docs) or commas (its SDKs). */
function names(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,]+/).filter(Boolean);
}

/**
 * `limit` and `skip` as integers. Integer-like text only (`10`, not `10.5` or
 * `ten`); whether the values are in range is the core's rule, which names its
 * limits in the error.
 */
export function paging(q: V1ListParams, defaultLimit: number): { limit: number; skip: number } {
  const integer = (value: string | undefined, field: string, fallback: number) => {
    if (value === undefined || value === '') return fallback;
    if (!/^\+?\d{1,9}$/.test(value)) throw invalid(field, 'must be a non-negative integer');
    return Number(value);
  };
  return { limit: integer(q.limit, 'limit', defaultLimit), skip: integer(q.skip, 'skip', 0) };
}

/** `sort=name -created` (or comma-separated): each key one of `fields`' own names, `-` for descending. */
export function sortKeys<F>(text: string | undefined, fields: Readonly<Record<string, F>>): Array<{ field: F; desc: boolean }> {
  return names(text).map((key) => {
    const desc = key.startsWith('-');
    return { field: knownField(fields, desc ? key.slice(1) : key, 'sort'), desc };
  });
}

/** The core name of a listing's field, or a 400 listing the fields there are. */
export function knownField<F>(fields: Readonly<Record<string, F>>, name: string, what: string): F {
  const field = ownValue(fields, name);
  if (field === undefined) throw invalid(what, `cannot use ${name}; one of ${Object.keys(fields).join(', ')}`);
  return field;
}

/** A parsed `filter=field:$op:value`: the core field, the operator's name and its values. */
export interface V1Filter<F, O> {
  field: F;
  op: O;
  values: string[];
}

/**
 * JumpCloud v1 `filter=field:$op:value` (repeatable; all must hold). `$in`
 * takes `a|b|c`; `$regex` takes a literal substring, since a pattern would
 * mean one thing here and another in JumpCloud's database.
 */
export function filters<F, O extends string>(
  filter: string | string[] | undefined,
  fields: Readonly<Record<string, F>>,
  ops: Readonly<Record<string, O>>,
): Array<V1Filter<F, O>> {
  const texts = filter === undefined ? [] : Array.isArray(filter) ? filter : [filter];
  return texts.map((text) => {
    const m = /^(\w+):(\$\w+):(.*)$/s.exec(text);
    if (!m) throw invalid('filter', 'must be field:$op:value, e.g. hostname:$eq:web-1');
    const op = ownValue(ops, m[2]!);
    if (op === undefined) throw invalid('filter', `unsupported operator ${m[2]}; one of ${Object.keys(ops).join(', ')}`);
    if (m[2] === '$regex' && /[\\^$.*+?()[\]{}|]/.test(m[3]!)) throw invalid('filter', '$regex supports literal substrings only');
    return { field: knownField(fields, m[1]!, 'filter'), op, values: m[2] === '$in' ? m[3]!.split('|') : [m[3]!] };
  });
}

/**
 * `fields=a b c` keeps only those (and `_id`); `fields=-a -b`, JumpCloud's
 * exclusion form, keeps everything but those. Mixing the two is a 400, as it
 * would be ambiguous.
 */
export function projection(fields: string | undefined): (record: Record<string, unknown>) => Record<string, unknown> {
  const keys = names(fields);
  if (keys.length === 0) return (record) => record;
  const excluded = keys.filter((k) => k.startsWith('-'));
  if (excluded.length > 0 && excluded.length < keys.length) {
    throw invalid('fields', 'name the fields to include, or (each with a leading -) the fields to exclude, not both');
  }
  if (excluded.length > 0) {
    const drop = new Set(excluded.map((k) => k.slice(1)));
    return (record) => Object.fromEntries(Object.entries(record).filter(([k]) => !drop.has(k)));
  }
  const keep = new Set(['_id', ...keys]);
  return (record) => Object.fromEntries(Object.entries(record).filter(([k]) => keep.has(k)));
}
