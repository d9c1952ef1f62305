import type { FastifyRequest } from 'fastify';
import type { QueryInput } from '../../../core/ingest/index.js';
import { readCommandBody } from '../body.js';
import { PdbError } from '../errors.js';

const QUERY_BODY_LIMIT = 1024 * 1024;

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
  if (!Number.isSafeInteger(n) || n < 0) throw new PdbError(400, `Illegal value '${String(value)}' for :${what}; expected a non-negative integer.`, true);
  return n;
}

async function postBody(req: FastifyRequest): Promise<Record<string, unknown>> {
  const text = await readCommandBody(req.raw, QUERY_BODY_LIMIT);
  const body = text.trim() === '' ? {} : parseJson(text, 'The request body');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new PdbError(400, 'The request body must be a JSON map', true);
  return body as Record<string, unknown>;
}

/** The root endpoint's query: AST JSON when it opens with '[', else a PQL string kept as it is. */
function rootQuery(value: unknown): unknown {
  return typeof value === 'string' && !value.trimStart().startsWith('[') ? value : parseJson(value, 'query');
}

/**
 * PuppetDB's query parameters, from the query string (GET) or the JSON body
 * (POST). A POST whose body is empty is a query without parameters, whatever
 * its content type says. `pql` (the root endpoint) also takes a PQL string.
 */
export async function queryParams(req: FastifyRequest, options: { pql?: boolean } = {}): Promise<QueryInput> {
  const src = req.method === 'POST' ? await postBody(req) : (req.query as Record<string, unknown>);
  const order = parseJson(src.order_by, 'order_by') ?? [];
  if (!Array.isArray(order) || !order.every((o) => o && typeof o.field === 'string' && (o.order === undefined || /^(asc|desc)$/i.test(o.order)))) {
    throw new PdbError(400, 'order_by must be an array of {"field": …, "order": "asc"|"desc"}', true);
  }
  return {
    query: options.pql ? rootQuery(src.query) : parseJson(src.query, 'query'),
    limit: count(src.limit, 'limit'),
    offset: count(src.offset, 'offset') ?? 0,
    orderBy: order.map((o: { field: string; order?: string }) => ({ field: o.field, order: (o.order ?? 'asc').toLowerCase() as 'asc' | 'desc' })),
  };
}
