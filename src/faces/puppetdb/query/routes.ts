import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor, Core } from '../../../core/index.js';
import { readCommandBody } from '../body.js';
import { PdbError, sendJson } from '../errors.js';

const QUERY_BODY_LIMIT = 1024 * 1024;
import { compileQuery, get, project, type Row } from './ast.js';
import { catalogView, factContentRows, factRows, factsetView, nodeView, reportView, resourceRows } from './views.js';

interface Paging {
  query: unknown;
  limit: number | undefined;
  offset: number;
  orderBy: Array<{ field: string; order: 'asc' | 'desc' }>;
}

function parseJson(value: unknown, what: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new PdbError(400, `${what} is not valid JSON: ${value}`, true);
  }
}

function count(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0) throw new PdbError(400, `Illegal value '${String(value)}' for :${what}; expected a non-negative integer.`, true);
  return n;
}

async function postBody(req: FastifyRequest): Promise<Record<string, unknown>> {
  const text = await readCommandBody(req.raw, QUERY_BODY_LIMIT);
  const body = text.trim() === '' ? {} : parseJson(text, 'The request body');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new PdbError(400, 'The request body must be a JSON map', true);
  return body as Record<string, unknown>;
}

/** The query parameters, from the query string (GET) or the JSON body (POST). */
async function paging(req: FastifyRequest): Promise<Paging> {
  const src = req.method === 'POST' ? await postBody(req) : (req.query as Record<string, unknown>);
  const order = parseJson(src.order_by, 'order_by') ?? [];
  if (!Array.isArray(order) || !order.every((o) => o && typeof o.field === 'string' && (o.order === undefined || /^(asc|desc)$/i.test(o.order)))) {
    throw new PdbError(400, 'order_by must be an array of {"field": …, "order": "asc"|"desc"}', true);
  }
  return {
    query: parseJson(src.query, 'query'),
    limit: count(src.limit, 'limit'),
    offset: count(src.offset, 'offset') ?? 0,
    orderBy: order.map((o: { field: string; order?: string }) => ({ field: o.field, order: (o.order ?? 'asc').toLowerCase() as 'asc' | 'desc' })),
  };
}

function sortRows(rows: Row[], orderBy: Paging['orderBy']): Row[] {
  if (orderBy.length === 0) return rows;
  const cmp = (a: unknown, b: unknown) => (a === b ? 0 : a === null || a === undefined ? 1 : b === null || b === undefined ? -1 : (a as string) < (b as string) ? -1 : 1);
  return [...rows].sort((x, y) => {
    for (const o of orderBy) {
      const c = cmp(get(x, o.field), get(y, o.field));
      if (c !== 0) return o.order === 'desc' ? -c : c;
    }
    return 0;
  });
}

/** Filters, orders, pages and projects a list of rows, then answers. */
function answer(reply: FastifyReply, rows: Row[], p: Paging, activeOnly?: (mentions: Set<string>) => boolean): FastifyReply {
  const q = compileQuery(p.query);
  let out = rows.filter((r) => (activeOnly && activeOnly(q.mentions) ? r.deactivated === null || r.deactivated === undefined : true)).filter(q.filter);
  out = sortRows(out, p.orderBy).slice(p.offset, p.limit === undefined ? undefined : p.offset + p.limit);
  if (q.extract) out = project(out, q.extract);
  return sendJson(reply, 200, out);
}

const activeUnlessAsked = (m: Set<string>) => !m.has('deactivated') && !m.has('node_state');
const unknownNode = (certname: string) => new PdbError(404, `No information is known about node ${certname}`);

/** /pdb/query/v4/… : nodes, facts, factsets, fact-contents, reports, resources, catalogs. */
export function queryRoutes(app: FastifyInstance, core: Core): void {
  const actor = (req: FastifyRequest): Actor => req.pdbActor!;
  const both = (path: string, handler: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>) => {
    app.get(path, handler);
    app.post(path, handler);
  };
  const activeFactsets = async (req: FastifyRequest) => (await core.ingest.factsets(actor(req))).filter((f) => f.deactivated === null);

  both('/query/v4/nodes', async (req, reply) => answer(reply, (await core.ingest.nodes(actor(req))).map(nodeView), await paging(req), activeUnlessAsked));
  app.get('/query/v4/nodes/:certname', async (req, reply) => {
    const { certname } = req.params as { certname: string };
    const [node] = await core.ingest.nodes(actor(req), certname);
    if (!node) throw unknownNode(certname);
    return sendJson(reply, 200, nodeView(node));
  });
  both('/query/v4/facts', async (req, reply) => answer(reply, (await activeFactsets(req)).flatMap(factRows), await paging(req)));
  app.get('/query/v4/facts/:name', async (req, reply) => {
    const { name } = req.params as { name: string };
    return answer(reply, (await activeFactsets(req)).flatMap(factRows).filter((r) => r.name === name), await paging(req));
  });
  app.get('/query/v4/facts/:name/:value', async (req, reply) => {
    const { name, value } = req.params as { name: string; value: string };
    const rows = (await activeFactsets(req)).flatMap(factRows).filter((r) => r.name === name && (r.value === value || JSON.stringify(r.value) === value));
    return answer(reply, rows, await paging(req));
  });
  both('/query/v4/factsets', async (req, reply) => answer(reply, (await activeFactsets(req)).map(factsetView), await paging(req)));
  app.get('/query/v4/factsets/:certname', async (req, reply) => {
    const { certname } = req.params as { certname: string };
    const [set] = await core.ingest.factsets(actor(req), certname);
    if (!set) throw unknownNode(certname);
    return sendJson(reply, 200, { ...factsetView(set), ...(set.deactivated ? { deactivated: set.deactivated } : {}) });
  });
  both('/query/v4/fact-contents', async (req, reply) => answer(reply, (await activeFactsets(req)).flatMap(factContentRows), await paging(req)));
  both('/query/v4/reports', async (req, reply) => answer(reply, (await core.ingest.reports(actor(req))).map(reportView), await paging(req)));
  both('/query/v4/resources', async (req, reply) => {
    const active = new Set((await core.ingest.nodes(actor(req))).filter((n) => n.deactivated === null).map((n) => n.certname));
    const rows = (await core.ingest.catalogs(actor(req))).filter((c) => active.has(c.certname)).flatMap(resourceRows);
    return answer(reply, rows, await paging(req));
  });
  app.get('/query/v4/catalogs/:certname', async (req, reply) => {
    const { certname } = req.params as { certname: string };
    const [catalog] = await core.ingest.catalogs(actor(req), certname);
    if (!catalog) throw new PdbError(404, `Could not find catalog for ${certname}`);
    return sendJson(reply, 200, catalogView(catalog));
  });
}
