import type { FastifyRequest } from 'fastify';
import { requireRole, type Actor, type Role } from '../core/access/index.js';

/**
 * The least role a route's callers need, so that a caller without it is
 * told 403 before anything about its request body (a missing or malformed
 * body is a 400 only for someone allowed to send one). Core checks every
 * operation's role again; this only puts the answers in the order clients
 * expect: 401, then 403, then 400.
 *
 * Reads need `viewer`, changes `operator`; a route that needs more (or less)
 * says so with `config: { role }`.
 */
export function routeRole(req: FastifyRequest): Role {
  const declared = (req.routeOptions.config as { role?: Role } | undefined)?.role;
  if (declared) return declared;
  return req.method === 'GET' || req.method === 'HEAD' ? 'viewer' : 'operator';
}

/** Throws FORBIDDEN when an API key's actor lacks the route's role (call right after authenticating, in `onRequest`). */
export function requireRouteRole(req: FastifyRequest, actor: Actor): void {
  requireRole(actor, routeRole(req));
}
