import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_KEY_REQUIRED } from '../../auth/api-key.js';
import type { Actor } from '../../core/index.js';
import { MusterError } from '../../core/errors.js';
import { isSystemPrincipal } from '../../core/systems/index.js';
import type {} from '../face.js';
import { Params } from './params.js';

/** What a route handler gets: the caller's actor and the request's parameters from wherever they came. */
export interface Call {
  req: FastifyRequest;
  reply: FastifyReply;
  actor: Actor;
  p: Params;
}

/** A route's answer: a JSON body (200, or `status`), or nothing (`204`), or a reply the handler sent itself. */
export type Handler = (call: Call) => Promise<unknown>;

/**
 * Adds a route under `url` and under `url/`, as SimpleMDM answers both
 * (`POST /api/v1/scripts/`). A handler's object is the JSON answer with
 * `status` (200 unless told), `undefined` answers 204 with no body.
 */
export function route(app: FastifyInstance, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, handler: Handler, status = 200): void {
  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    const caller = req.caller;
    if (!caller || isSystemPrincipal(caller)) throw new MusterError('UNAUTHENTICATED', API_KEY_REQUIRED);
    const body = await handler({ req, reply, actor: caller, p: Params.of(req) });
    if (reply.sent) return reply;
    if (body === undefined) return reply.status(204).send();
    return reply.status(status).send(body);
  };
  for (const path of [url, `${url}/`]) app.route({ method, url: path, schema: { hide: true }, handler: handle });
}
