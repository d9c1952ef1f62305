import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isMusterError, type Actor, type Core } from '../../../core/index.js';
import type { QueryEntity, QueryInput } from '../../../core/ingest/index.js';
import { parseRootQuery } from '../../../core/ingest/query.js';
import { actorOf } from '../caller.js';
import { PdbError, sendJson } from '../errors.js';
import { queryParams } from './params.js';
import { catalogView, factsetView, nodeView, pick, renderRows } from './views.js';

const unknownNode = (certname: string) => new PdbError(404, `No information is known about node ${certname}`);

/** A query the core refuses is PuppetDB's plain-text 400. */
async function refusedAs400<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isMusterError(err) && err.code === 'INVALID_ARGUMENT') throw new PdbError(400, err.message, true);
    throw err;
  }
}

/** One core call, its answer in PuppetDB's shape. */
async function answer(core: Core, actor: Actor, reply: FastifyReply, entity: QueryEntity, input: QueryInput): Promise<FastifyReply> {
  const result = await refusedAs400(() => core.ingest.query(actor, entity, input));
  const rows = renderRows(result);
  // Plain extract keeps only the named fields of each rendered row (counts come back shaped).
  return sendJson(reply, 200, result.kind === 'rows' && result.fields ? pick(rows, result.fields) : rows);
}

/** /pdb/query/v4 (the root: AST with "from", or PQL) and /pdb/query/v4/… : nodes, facts, factsets, fact-contents, reports, resources, catalogs, events, inventory. */
export function queryRoutes(app: FastifyInstance, core: Core): void {
  const actor = (req: FastifyRequest): Actor => actorOf(req);
  const both = (path: string, handler: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>) => {
    app.get(path, handler);
    app.post(path, handler);
  };
  const list = (path: string, entity: QueryEntity) => both(path, async (req, reply) => answer(core, actor(req), reply, entity, await queryParams(req)));

  list('/query/v4/nodes', 'nodes');
  list('/query/v4/facts', 'facts');
  list('/query/v4/factsets', 'factsets');
  list('/query/v4/fact-contents', 'fact-contents');
  list('/query/v4/reports', 'reports');
  list('/query/v4/resources', 'resources');
  list('/query/v4/catalogs', 'catalogs');
  list('/query/v4/events', 'events');
  list('/query/v4/inventory', 'inventory');
  both('/query/v4', async (req, reply) => {
    const root = await refusedAs400(async () => parseRootQuery(await queryParams(req, { pql: true })));
    return answer(core, actor(req), reply, root.entity, root.input);
  });
  app.get('/query/v4/nodes/:certname', async (req, reply) => {
    const { certname } = req.params as { certname: string };
    const [node] = await core.ingest.nodes(actor(req), certname);
    if (!node) throw unknownNode(certname);
    return sendJson(reply, 200, nodeView(node));
  });
  app.get('/query/v4/facts/:name', async (req, reply) => {
    const { name } = req.params as { name: string };
    return answer(core, actor(req), reply, 'facts', { ...(await queryParams(req)), where: { name } });
  });
  app.get('/query/v4/facts/:name/:value', async (req, reply) => {
    const { name, value } = req.params as { name: string; value: string };
    return answer(core, actor(req), reply, 'facts', { ...(await queryParams(req)), where: { name, value } });
  });
  app.get('/query/v4/factsets/:certname', async (req, reply) => {
    const { certname } = req.params as { certname: string };
    const [set] = await core.ingest.factsets(actor(req), certname);
    if (!set) throw unknownNode(certname);
    return sendJson(reply, 200, { ...factsetView(set), ...(set.deactivated ? { deactivated: set.deactivated } : {}) });
  });
  app.get('/query/v4/catalogs/:certname', async (req, reply) => {
    const { certname } = req.params as { certname: string };
    const [catalog] = await core.ingest.catalogs(actor(req), certname);
    if (!catalog) throw new PdbError(404, `Could not find catalog for ${certname}`);
    return sendJson(reply, 200, catalogView(catalog));
  });
}
