import { hash, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { systemSignatureResolver, type SignatureVerifierDeps } from './auth/system-signature.js';
import type { Core } from './core/index.js';
import { MusterError } from './core/errors.js';
import { uuidV7 } from './core/ids.js';
import { agentFace } from './faces/agent/index.js';
import { auditRequests } from './faces/audit-context.js';
import { beyondtrustFace } from './faces/beyondtrust/index.js';
import { consoleRoutes } from './faces/console/index.js';
import { mountFaces } from './faces/face.js';
import { sendError } from './faces/http-errors.js';
import { parseJsonBodies } from './faces/json-body.js';
import { limitRates, type RateLimitOptions } from './faces/rate-limit.js';
import { jumpcloudFace } from './faces/jumpcloud/index.js';
import { JUMPCLOUD_ROUTES } from './faces/jumpcloud/routes/index.js';
import { nativeErrorBody, nativeFace } from './faces/native/index.js';
import { puppetdbFace, type PuppetdbDeps } from './faces/puppetdb/index.js';
import { simplemdmFace } from './faces/simplemdm/index.js';
import type { AgentHub } from './hub/agent-hub.js';

export interface AppDeps {
  core: Core;
  hub: AgentHub;
  logger: Logger;
  registry: Registry;
  signatures: SignatureVerifierDeps;
  /** Resolves when the server can serve (database reachable); rejects otherwise. */
  ready: () => Promise<void>;
  bodyLimit: number;
  trustProxy: boolean | string;
  version: string;
  /** Serve HTTPS with these (PEM); `ca` asks clients for certificates and verifies them against it. */
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer | undefined } | undefined;
  /** The PuppetDB-compatible face at /pdb. */
  pdb?: Omit<PuppetdbDeps, 'core'> | undefined;
  /** Per-caller request limits (default: off). */
  rateLimit?: RateLimitOptions | undefined;
  /** When set, /metrics answers only `Authorization: Bearer <this>`. */
  metricsToken?: string | undefined;
  /** What /metrics answers, when not this process's registry alone (the sum over the workers of `--workers N`). */
  metricsText?: (() => Promise<string>) | undefined;
}

/** Builds the HTTP app, apart from the server that runs it (tests use `inject()`). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.tls
      ? { https: { cert: deps.tls.cert, key: deps.tls.key, ...(deps.tls.ca ? { ca: deps.tls.ca, requestCert: true, rejectUnauthorized: false } : {}) } }
      : {}),
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit,
    trustProxy: deps.trustProxy,
    // Time-ordered (UUIDv7): the audit log's index on request ids then grows at its end, not at a random page per request.
    genReqId: () => uuidV7(),
    requestIdHeader: 'x-request-id',
    // One line per request, from the onResponse hook below, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Types are not coerced: a string where a number belongs is a 400, not a guess.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // While the server drains (SIGTERM), a request that comes on a connection it already has is served,
    // not refused with Fastify's 503: the load balancer sent it here, and the database is still open.
    return503OnClosing: false,
  });
  // Draining: every answer asks the client (the load balancer) to close its connection, so that
  // nothing more is sent to this server once the requests in flight are done.
  app.addHook('onSend', async (_req, reply) => {
    if (draining) reply.header('connection', 'close');
  });
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  instrument(app, deps.registry);
  auditRequests(
    app,
    deps.core.audit.authFailureRecorder((message, fields) => deps.logger.warn(fields, message)),
  );
  // Set before any plugin registers: a scope keeps the error handler it was created with (the OpenAPI routes too).
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err, nativeErrorBody));
  app.setNotFoundHandler((req, reply) =>
    sendError(req, reply, new MusterError('NOT_FOUND', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`), nativeErrorBody),
  );
  // Before the faces: their scopes inherit the parser, and the limiter hooks the routes they add.
  parseJsonBodies(app);
  await limitRates(app, deps.rateLimit ?? { max: 0, windowMs: 1000 });

  await app.register(websocket, { options: { maxPayload: 16 * 1024 * 1024 } });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'muster',
        version: deps.version,
        description:
          'The native API. Authenticate with `Authorization: Bearer <API key>` or `x-api-key`. Errors are `{"error": {"code", "message", "request_id"}}` with codes NOT_FOUND (404), INVALID_ARGUMENT (400), CONFLICT (409), FORBIDDEN (403), UNAUTHENTICATED (401), PAYLOAD_TOO_LARGE (413), RATE_LIMITED (429), UNAVAILABLE (503), INTERNAL (500).',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await deps.ready();
      return { status: 'ready' };
    } catch {
      return reply.status(503).send({ status: 'unavailable', reason: 'the database is not reachable' });
    }
  });
  const metricsAllowed = bearerCheck(deps.metricsToken);
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (!metricsAllowed(req.headers.authorization)) {
      throw new MusterError('UNAUTHENTICATED', 'the metrics token is required (Authorization: Bearer <metrics_token>)');
    }
    return reply.header('content-type', deps.registry.contentType).send(await (deps.metricsText ?? (() => deps.registry.metrics()))());
  });

  const pdb = deps.pdb ?? { auth: 'api_key', organization: 'default', maxCommandBytes: 20 * 1024 * 1024 };
  await mountFaces(app, [
    nativeFace({ core: deps.core }),
    jumpcloudFace({ core: deps.core, routes: JUMPCLOUD_ROUTES, systemSignature: systemSignatureResolver(deps.signatures) }),
    puppetdbFace({ core: deps.core, ...pdb }),
    beyondtrustFace({ core: deps.core }),
    simplemdmFace({ core: deps.core }),
    { name: 'agent', prefix: '/agent/v1', register: (scope) => agentFace(scope, { core: deps.core, hub: deps.hub, signatures: deps.signatures }) },
  ]);
  // The web console's files are public, like /docs: beside the faces, not one of them (the page calls the native API with its key).
  await consoleRoutes(app);
  return app;
}

/** Whether an Authorization value carries `token`, compared in constant time; without a token, anything passes. */
function bearerCheck(token: string | undefined): (authorization: string | undefined) => boolean {
  if (token === undefined) return () => true;
  // Digests of equal length, so the comparison's time says nothing about the token.
  const expected = hash('sha256', token, 'buffer');
  return (authorization) => {
    const sent = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    return sent !== undefined && timingSafeEqual(hash('sha256', sent, 'buffer'), expected);
  };
}

function instrument(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({
    name: 'muster_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'muster_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    registers: [registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    duration.observe({ method: req.method, route }, seconds);
    req.log.info({ method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
}
