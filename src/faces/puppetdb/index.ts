import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { API_KEY_REQUIRED, apiKeyResolver } from '../../auth/api-key.js';
import type { CallerResolver } from '../../auth/caller.js';
import type { Core, Role } from '../../core/index.js';
import { authenticateWith, type Face } from '../face.js';
import { ingestCommandRoutes } from './cmd.js';
import { compressResponses } from './compress.js';
import { sendJson, sendPdbError } from './errors.js';
import { queryRoutes } from './query/routes.js';

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

/**
 * The trusted-reporter resolver (`pdb_auth` loopback or client_cert): a
 * request from the loopback interface, or with a client certificate the
 * server verified, acts as the reporter of `organization`. It presents
 * nothing otherwise; an API key, when sent, is resolved first.
 */
function trustedReporterResolver(deps: PuppetdbDeps): CallerResolver {
  return {
    name: `pdb_${deps.auth}`,
    async resolve(req) {
      const socket = req.socket as TLSSocket;
      if (deps.auth === 'loopback' && LOOPBACK.test(socket.remoteAddress ?? '')) return deps.core.ingest.trustedReporter(deps.organization, 'pdb:loopback');
      if (deps.auth === 'client_cert' && socket.encrypted && socket.authorized) {
        const subject = socket.getPeerCertificate()?.subject?.CN;
        return deps.core.ingest.trustedReporter(deps.organization, `pdb:cert:${String(subject ?? 'unknown')}`);
      }
      return undefined;
    },
  };
}

/** Queries are reads whatever their method (PuppetDB takes POST queries); commands change. */
const pdbRole = (method: string, url: string): Role => (method === 'GET' || method === 'HEAD' || url.includes('/query/') ? 'viewer' : 'operator');

/** The PuppetDB-compatible face, under /pdb. */
export function puppetdbFace(deps: PuppetdbDeps): Face {
  return { name: 'puppetdb', prefix: '/pdb', register: (scope) => registerPuppetdb(scope, deps) };
}

async function registerPuppetdb(app: FastifyInstance, deps: PuppetdbDeps): Promise<void> {
  // Commands read their own body (size limits, gzip); queries take JSON.
  app.removeAllContentTypeParsers();
  // Bodies are read by the routes from the raw request (size limits, gzip).
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  app.addContentTypeParser('application/json', (_req, _payload, done) => done(null, undefined));
  app.setErrorHandler((err, req, reply) => sendPdbError(req, reply, err));
  app.setNotFoundHandler((req, reply) => sendJson(reply, 404, { error: `No such endpoint: ${req.method} ${req.url.split('?')[0]}` }));
  compressResponses(app);
  const resolvers = [apiKeyResolver(deps.core.keys), ...(deps.auth === 'api_key' ? [] : [trustedReporterResolver(deps)])];
  authenticateWith(app, resolvers, `${API_KEY_REQUIRED}, or a trusted client`, { role: pdbRole });
  app.get('/meta/v1/version', async (_req, reply) => sendJson(reply, 200, { version: '7.12.1' }));
  app.get('/meta/v1/server-time', async (_req, reply) => sendJson(reply, 200, { server_time: new Date().toISOString() }));
  ingestCommandRoutes(app, deps);
  queryRoutes(app, deps.core);
}
