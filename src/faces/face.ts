import type { FastifyInstance, RouteOptions } from 'fastify';
import { resolveCaller, type Caller, type CallerResolver } from '../auth/caller.js';
import { requireRole, type Role } from '../core/access/index.js';
import { MusterError } from '../core/errors.js';
import { isSystemPrincipal } from '../core/systems/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, as the face's resolvers found it; null before authentication and on anonymous routes called without credentials. */
    caller: Caller | null;
  }
  interface FastifyInstance {
    /** Every route of every face with how it authenticates (the authorization test reads it once the app is ready). */
    readonly routeAuth: RouteAuth[];
  }
}

/**
 * A face: one public API over the core, mounted under its prefix. `register`
 * adds its routes, error format and hooks to its own scope; `app.ts` mounts
 * the list.
 */
export interface Face {
  name: string;
  prefix: string;
  register(scope: FastifyInstance): Promise<void>;
}

/** How a route authenticates: the resolvers it accepts and the least role an API key needs. */
export interface RouteAuth {
  face: string;
  method: string;
  url: string;
  resolvers: string[];
  role: Role;
  /** The route authenticates its own way when no credential is sent (a trigger's secret, an enrollment key). */
  anonymous: boolean;
}

/** What a route may declare in its `config`. */
export interface RouteAuthConfig {
  /** The least role an API key needs; by default the face's rule (reads `viewer`, changes `operator`). */
  role?: Role;
  /** Without credentials the route is reached with `req.caller` null and checks its own (credentials, when sent, are still checked). */
  anonymous?: boolean;
  /** What a route that authenticates in its own handler accepts (the agent's enrollment key); the face's resolvers otherwise. */
  resolvers?: string[];
}

/** Reads need `viewer`, changes `operator`. */
const defaultRole = (method: string): Role => (method === 'GET' || method === 'HEAD' ? 'viewer' : 'operator');

/** Mounts `faces` on `app`, each under its prefix, and keeps the table of their routes' authentication. */
export async function mountFaces(app: FastifyInstance, faces: readonly Face[]): Promise<void> {
  app.decorateRequest('caller', null);
  const routes: { face: string; route: RouteOptions }[] = [];
  app.decorate('routeAuth', {
    getter: () =>
      routes.flatMap(({ face, route }) => {
        const config = (route.config ?? {}) as RouteAuthConfig;
        return [route.method]
          .flat()
          .filter((m) => m !== 'HEAD')
          .map((method) => ({
            face,
            method,
            url: route.url,
            resolvers: config.resolvers ?? [],
            role: config.role ?? defaultRole(method),
            anonymous: config.anonymous === true,
          }));
      }),
  });
  for (const face of faces) {
    await app.register(
      async (scope) => {
        // Read when asked, after every onRoute hook (authenticateWith's among them) has run.
        scope.addHook('onRoute', (route) => void routes.push({ face: face.name, route }));
        await face.register(scope);
      },
      { prefix: face.prefix },
    );
  }
}

/**
 * Authenticates every route of `scope` with `resolvers`, in order, before
 * the body is read: a request that presents no credential is told
 * `missing` (401), one whose credential does not hold is told
 * why (401), and an API key without the route's role is told 403 before
 * anything about its body, so clients see 401, then 403, then 400. Core
 * checks every operation's role again; a system (System Context) is held to
 * its own record by core. Call it in a face's `register` before its routes.
 */
export function authenticateWith(
  scope: FastifyInstance,
  resolvers: readonly CallerResolver[],
  missing: string,
  options: { role?: (method: string, url: string) => Role } = {},
): void {
  const names = resolvers.map((r) => r.name);
  const roleOf = options.role ?? defaultRole;
  scope.addHook('onRoute', (route) => {
    const method = [route.method].flat().find((m) => m !== 'HEAD') ?? 'GET';
    const declared = route.config as RouteAuthConfig | undefined;
    route.config = { ...route.config, resolvers: declared?.resolvers ?? names, role: declared?.role ?? roleOf(method, route.url) } as typeof route.config;
  });
  scope.addHook('onRequest', async (req) => {
    const config = req.routeOptions.config as RouteAuthConfig;
    const caller = await resolveCaller(req, resolvers);
    if (!caller) {
      if (config.anonymous === true) return;
      throw new MusterError('UNAUTHENTICATED', missing);
    }
    req.caller = caller;
    // A request no route matched has no declared role: the method's default.
    if (!isSystemPrincipal(caller)) requireRole(caller, config.role ?? roleOf(req.method, req.url));
  });
}
