import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MusterError } from '../core/errors.js';
import { callerLabel } from '../core/systems/index.js';
import type {} from './face.js';

export interface RateLimitOptions {
  /** Requests one caller may make per window; 0 turns the limit off. */
  max: number;
  windowMs: number;
}

/**
 * Routes outside the limit, by their route path. Each serves machines rather
 * than people, and none can be hurried by failing it:
 * - health, readiness and metrics: load balancers and scrapers;
 * - the agent hub: an agent holds one connection, and an autoscaling group
 *   enrolls hundreds of machines with one enrollment key at once;
 * - PuppetDB command submission: the ingest queue takes thousands of commands
 *   a second from a few reporters, and Puppet drops a report that is refused.
 */
const EXEMPT = new Set(['/healthz', '/readyz', '/metrics', '/agent/v1/enroll', '/agent/v1/connect', '/pdb/cmd/v1']);

/**
 * Who a request counts against: the API key, or the system of a System Context
 * signature, as the face's authentication found them (it runs first, so a
 * refused credential is answered 401 and never counted); otherwise the client
 * address (a trigger called with its HMAC secret, the OpenAPI document).
 */
function callerOf(req: FastifyRequest): string {
  return req.caller ? callerLabel(req.caller) : `ip:${req.ip}`;
}

/**
 * Per-caller rate limits on every route but the exempt ones: a fixed window
 * per caller and replica, counted in memory. Over the limit the answer is 429
 * with `Retry-After` (seconds), in the error shape of the face that was asked,
 * because the limiter throws a MusterError that the face's error handler
 * renders. Register before the faces, so their routes get the hook; it runs
 * after each face's own `onRequest` authentication.
 */
export async function limitRates(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  if (options.max === 0) return;
  app.addHook('onRoute', (route) => {
    // `false` tells the limiter to add no hook at all, so an exempt route pays nothing.
    if (EXEMPT.has(route.url)) route.config = { ...route.config, rateLimit: false } as typeof route.config;
  });
  await app.register(rateLimit, {
    global: true,
    max: options.max,
    timeWindow: options.windowMs,
    hook: 'onRequest',
    keyGenerator: callerOf,
    // Bounded memory: the least recently seen callers are forgotten first.
    cache: 10_000,
    errorResponseBuilder: (_req, context) =>
      new MusterError(
        'RATE_LIMITED',
        `too many requests: at most ${context.max} per ${options.windowMs / 1000} s for each API key, system or client address; retry in ${context.after}`,
      ),
  });
}
