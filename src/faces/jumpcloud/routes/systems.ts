import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { invalid } from '../../../core/errors.js';
import type { SystemFilter, SystemQuery } from '../../../core/systems/index.js';
import { adminOf, type JumpCloudDeps } from '../context.js';
import { JC_QUERY_FIELDS, JC_SYSTEM_FIELDS, jcSystem } from '../inventory-views.js';
import { callerOf } from '../system-caller.js';

const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
    skip: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
    sort: Type.Optional(Type.String({ maxLength: 512 })),
    fields: Type.Optional(Type.String({ maxLength: 1024 })),
    filter: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 20 })])),
  },
  { additionalProperties: false },
);
const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
const OPS: Record<string, SystemFilter['op']> = { $eq: 'eq', $ne: 'ne', $gt: 'gt', $lt: 'lt', $in: 'in', $regex: 'contains' };

function queryField(name: string, what: string) {
  const field = JC_QUERY_FIELDS[name];
  if (!field) throw invalid(what, `cannot use ${name}; one of ${Object.keys(JC_QUERY_FIELDS).join(', ')}`);
  return field;
}

/** JumpCloud v1 `filter=field:$op:value` (repeatable; all must hold). `$regex` takes a literal substring. */
function parseFilter(text: string): SystemFilter {
  const m = /^([\w]+):(\$\w+):(.*)$/s.exec(text);
  if (!m) throw invalid('filter', 'must be field:$op:value, e.g. hostname:$eq:web-1');
  const op = OPS[m[2]!];
  if (!op) throw invalid('filter', `unsupported operator ${m[2]}; one of ${Object.keys(OPS).join(', ')}`);
  if (op === 'contains' && /[\\^$.*+?()[\]{}|]/.test(m[3]!)) throw invalid('filter', '$regex supports literal substrings only');
  return { field: queryField(m[1]!, 'filter'), op, values: op === 'in' ? m[3]!.split('|') : [m[3]!] };
}

function parseListQuery(q: { limit?: string; skip?: string; sort?: string; filter?: string | string[] }): SystemQuery {
  const filters = (q.filter === undefined ? [] : Array.isArray(q.filter) ? q.filter : [q.filter]).map(parseFilter);
  const sort = (q.sort ?? '').split(/[\s,]+/).filter(Boolean).map((key) => ({ field: queryField(key.replace(/^-/, ''), 'sort'), desc: key.startsWith('-') }));
  return { filters, sort, skip: Number(q.skip ?? 0), limit: Number(q.limit ?? 10) };
}

/** `fields=a b c`: only those (and `_id`). */
function project(record: Record<string, unknown>, fields: string | undefined): Record<string, unknown> {
  if (!fields) return record;
  const wanted = new Set(['_id', ...fields.split(/[\s,]+/).filter(Boolean)]);
  return Object.fromEntries(Object.entries(record).filter(([k]) => wanted.has(k)));
}

/** JumpCloud v1 keys of a PUT body → core names; unknown keys pass through and are refused by core. */
function toCorePatch(body: unknown): { patch: Record<string, unknown>; names: Record<string, string> } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', 'must be a JSON object');
  const patch: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    const core = JC_SYSTEM_FIELDS[key] ?? `unknown:${key}`;
    patch[core] = value;
    names[core] = key;
  }
  return { patch, names };
}

/** /api/systems (v1): list with limit/skip/sort/fields/filter (API key); one system's GET/PUT/DELETE (API key, or the system itself). */
export function jumpcloudSystemRoutes(app: FastifyInstance, { core }: JumpCloudDeps): void {
  app.get('/systems', { schema: { querystring: ListQuery, hide: true } }, async (req) => {
    const q = req.query as { limit?: string; skip?: string; sort?: string; fields?: string; filter?: string | string[] };
    const page = await core.systems.query(adminOf(req), parseListQuery(q));
    return { totalCount: page.total, results: page.items.map((s) => project(jcSystem(s), q.fields)) };
  });

  app.get('/systems/:id', { schema: { params: Params, querystring: Type.Object({ fields: Type.Optional(Type.String({ maxLength: 1024 })) }), hide: true } }, async (req) =>
    project(jcSystem(await core.systems.get(callerOf(req), (req.params as { id: string }).id)), (req.query as { fields?: string }).fields),
  );

  app.put('/systems/:id', { schema: { params: Params, hide: true } }, async (req) => {
    const { patch, names } = toCorePatch(req.body);
    return jcSystem(await core.systems.update(callerOf(req), (req.params as { id: string }).id, patch, names));
  });

  app.delete('/systems/:id', { schema: { params: Params, hide: true } }, async (req) => jcSystem(await core.systems.remove(callerOf(req), (req.params as { id: string }).id)));
}
