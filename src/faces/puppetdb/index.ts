import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticateApiKey, presentedApiKey } from '../../auth/api-key.js';
import type { Actor, Core } from '../../core/index.js';
import { commandRoutes } from './cmd.js';
import { compressResponses } from './compress.js';
import { PdbError, sendJson, sendPdbError } from './errors.js';
import { queryRoutes } from './query/routes.js';

declare module 'fastify' {
  interface FastifyRequest {
    pdbActor: Actor | null;
  }
}

/**
 * Who may use /pdb without an API key: nobody (`api_key`), clients on the
 * loopback interface (`loopback`), or clients whose TLS certificate the
 * server verified against its client CA (`client_cert`). Puppet's terminus
 * sends no API key, so one of the latter is how Puppet reports.
 */
export type PdbAuthMode = 'api_key' | 'loopback' | 'client_cert';

export interface PuppetdbDeps {
  core: Core;
  auth: PdbAuthMode;
  /** Slug of the organization trusted reporters write to. */
  organization: string;
  maxCommandBytes: number;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

async function authenticate(req: FastifyRequest, deps: PuppetdbDeps): Promise<Actor> {
  if (presentedApiKey(req.headers)) return authenticateApiKey(deps.core.keys, req.headers);
  const socket = req.raw.socket as TLSSocket;
  if (deps.auth === 'loopback' && LOOPBACK.test(socket.remoteAddress ?? '')) return deps.core.ingest.trustedReporter(deps.organization, 'pdb:loopback');
  if (deps.auth === 'client_cert' && socket.encrypted && socket.authorized) {
    const subject = socket.getPeerCertificate()?.subject?.CN;
    return deps.core.ingest.trustedReporter(deps.organization, `pdb:cert:${String(subject ?? 'unknown')}`);
  }
  throw new PdbError(401, 'an API key is required (Authorization: Bearer <key> or x-api-key), or a trusted client');
}

/** The PuppetDB-compatible face, mounted at /pdb. */
export async function puppetdbFace(app: FastifyInstance, deps: PuppetdbDeps): Promise<void> {
  app.decorateRequest('pdbActor', null);
  // Commands read their own body (size limits, gzip); queries take JSON.
  app.removeAllContentTypeParsers();
  // Bodies are read by the routes from the raw request (size limits, gzip).
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  app.addContentTypeParser('application/json', (_req, _payload, done) => done(null, undefined));
  app.setErrorHandler((err, req, reply) => sendPdbError(req, reply, err));
  app.setNotFoundHandler((req, reply) => sendJson(reply, 404, { error: `No such endpoint: ${req.method} ${req.url.split('?')[0]}` }));
  compressResponses(app);
  app.addHook('onRequest', async (req) => {
    req.pdbActor = await authenticate(req, deps);
  });
  app.get('/meta/v1/version', async (_req, reply) => sendJson(reply, 200, { version: '7.12.1' }));
  app.get('/meta/v1/server-time', async (_req, reply) => sendJson(reply, 200, { server_time: new Date().toISOString() }));
  commandRoutes(app, deps);
  queryRoutes(app, deps.core);
}
