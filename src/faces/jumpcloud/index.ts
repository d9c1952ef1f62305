import type { FastifyInstance } from 'fastify';
import { API_KEY_REQUIRED, apiKeyResolver } from '../../auth/api-key.js';
import type { CallerResolver } from '../../auth/caller.js';
import { MusterError } from '../../core/errors.js';
import { isSystemPrincipal } from '../../core/systems/index.js';
import { authenticateWith, type Face } from '../face.js';
import { sendError } from '../http-errors.js';
import type { JumpCloudDeps } from './context.js';
import { checkSignedBody, keepRawJsonBodies } from './system-caller.js';

/**
 * The JumpCloud error body. JumpCloud's clients read `message`; `error` carries
 * muster's code so scripts can branch without parsing prose.
 */
export function jumpcloudErrorBody(code: string, message: string, requestId: string): unknown {
  return { message, error: code, request_id: requestId };
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

/** A group of JumpCloud routes; each capability adds its own file under routes/. */
export type JumpCloudRoutes = (app: FastifyInstance, deps: JumpCloudDeps) => void;

/**
 * The JumpCloud-compatible API, under /api. Callers are API keys (with
 * `x-org-id`, when sent, naming the key's own organization) and, through
 * `systemSignature`, systems signing for themselves (System Context). Errors
 * use JumpCloud's shape; routes come from `routes`, one module per capability.
 */
export function jumpcloudFace(deps: JumpCloudDeps & { systemSignature?: CallerResolver; routes: JumpCloudRoutes[] }): Face {
  return { name: 'jumpcloud', prefix: '/api', register: (scope) => registerJumpcloud(scope, deps) };
}

async function registerJumpcloud(app: FastifyInstance, deps: JumpCloudDeps & { systemSignature?: CallerResolver; routes: JumpCloudRoutes[] }): Promise<void> {
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err, jumpcloudErrorBody));
  app.setNotFoundHandler((req, reply) =>
    // A system asking outside the System Context API gets 401, as JumpCloud answers.
    req.caller && isSystemPrincipal(req.caller)
      ? sendError(req, reply, new MusterError('UNAUTHENTICATED', 'this endpoint is not part of the System Context API'), jumpcloudErrorBody)
      : sendError(req, reply, new MusterError('NOT_FOUND', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`), jumpcloudErrorBody),
  );
  keepRawJsonBodies(app);
  answerWithTrailingSlash(app);
  // A route that authenticates its own way (a trigger's HMAC secret) sets `config.anonymous`.
  authenticateWith(
    app,
    [apiKeyResolver(deps.core.keys, { organizationHeader: 'x-org-id' }), ...(deps.systemSignature ? [deps.systemSignature] : [])],
    API_KEY_REQUIRED,
  );
  // A system's signed Digest, and a replay (keyed on the body too), are checked once the body has been read.
  app.addHook('preValidation', async (req) => {
    if (req.caller && isSystemPrincipal(req.caller)) await checkSignedBody(req);
  });
  for (const routes of deps.routes) routes(app, deps);
}
