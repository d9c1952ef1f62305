import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticateApiKey, presentedApiKey } from '../../auth/api-key.js';
import { MusterError } from '../../core/errors.js';
import { sendError } from '../http-errors.js';
import { requireRouteRole } from '../route-role.js';
import type { JumpCloudCaller, JumpCloudDeps } from './context.js';
import { checkSignedBody, keepRawJsonBodies } from './system-caller.js';

/**
 * The JumpCloud error body. JumpCloud's clients read `message`; `error` carries
 * muster's code so scripts can branch without parsing prose.
 */
export function jumpcloudErrorBody(code: string, message: string, requestId: string): unknown {
  return { message, error: code, request_id: requestId };
}

/**
 * Authenticates a JumpCloud request: `x-api-key` (JumpCloud's header; Bearer
 * also works), with `x-org-id`, when sent, naming the key's own organization.
 * Requests signed by a system are handled by the System Context verifier,
 * plugged in through `systemCaller`.
 */
async function authenticate(req: FastifyRequest, deps: JumpCloudDeps & { systemCaller?: SystemCaller }): Promise<JumpCloudCaller> {
  if (presentedApiKey(req.headers) === undefined && deps.systemCaller && /^Signature\s/i.test(String(req.headers.authorization ?? ''))) {
    return deps.systemCaller(req);
  }
  const actor = await authenticateApiKey(deps.core.keys, req.headers);
  const orgId = req.headers['x-org-id'];
  if (typeof orgId === 'string' && orgId !== '' && orgId !== actor.organizationId) {
    throw new MusterError('UNAUTHENTICATED', 'x-org-id does not name the organization of this API key');
  }
  return { kind: 'api_key', actor };
}

/**
 * Every JumpCloud route also answers with a trailing slash, as JumpCloud does
 * (its docs write `POST /api/commands/`). Each route added to the face, in any
 * of its scopes, gets a twin ending in `/` with the same options; the native
 * API stays strict. HEAD twins come with their GET twins.
 */
function answerWithTrailingSlash(app: FastifyInstance): void {
  app.addHook('onRoute', function (route) {
    const config = route.config as { slashTwin?: boolean } | undefined;
    if (route.method === 'HEAD' || config?.slashTwin === true || route.routePath === '' || route.routePath.endsWith('/')) return;
    // `this` is the scope the route was added in, so the twin gets its prefix, parsers and hooks.
    const twinConfig = { ...route.config, slashTwin: true } as typeof route.config;
    this.route({ ...route, url: `${route.routePath}/`, config: twinConfig, schema: { ...route.schema, hide: true } });
  });
}

/** Verifies a System Context request (HTTP Signature) and returns the system it came from, or throws UNAUTHENTICATED. */
export type SystemCaller = (req: FastifyRequest) => Promise<JumpCloudCaller>;

/** A group of JumpCloud routes; each capability adds its own file under routes/. */
export type JumpCloudRoutes = (app: FastifyInstance, deps: JumpCloudDeps) => void;

/**
 * Mounts the JumpCloud-compatible API under /api (register with `prefix: '/api'`).
 * Errors use JumpCloud's shape; routes come from `routes`, one module per capability.
 */
export async function jumpcloudFace(app: FastifyInstance, deps: JumpCloudDeps & { systemCaller?: SystemCaller; routes: JumpCloudRoutes[] }): Promise<void> {
  app.decorateRequest('jumpcloud', null);
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err, jumpcloudErrorBody));
  app.setNotFoundHandler((req, reply) =>
    // A system asking outside the System Context API gets 401, as JumpCloud answers.
    req.jumpcloud?.kind === 'system'
      ? sendError(req, reply, new MusterError('UNAUTHENTICATED', 'this endpoint is not part of the System Context API'), jumpcloudErrorBody)
      : sendError(req, reply, new MusterError('NOT_FOUND', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`), jumpcloudErrorBody),
  );
  keepRawJsonBodies(app);
  answerWithTrailingSlash(app);
  app.addHook('onRequest', async (req) => {
    // A route that authenticates its own way (a trigger's HMAC secret) sets `config.anonymous`:
    // credentials, when sent, are still checked; their absence is left to the route.
    const anonymous = (req.routeOptions.config as { anonymous?: boolean } | undefined)?.anonymous === true;
    if (anonymous && presentedApiKey(req.headers) === undefined && req.headers.authorization === undefined) return;
    req.jumpcloud = await authenticate(req, deps);
    if (req.jumpcloud.kind === 'api_key') requireRouteRole(req, req.jumpcloud.actor);
  });
  // A system's signed Digest, and a replay (keyed on the body too), are checked once the body has been read.
  app.addHook('preValidation', async (req) => {
    if (req.jumpcloud?.kind === 'system') await checkSignedBody(req);
  });
  for (const routes of deps.routes) routes(app, deps);
}
