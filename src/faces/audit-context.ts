import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authFailureClaim, runInRequest, type AuthFailureRecorder, type RequestContext } from '../core/audit/index.js';
import { isMusterError } from '../core/errors.js';
import { callerLabel } from '../core/systems/index.js';
import type {} from './face.js';

const contexts = new WeakMap<FastifyRequest, RequestContext>();

function contextOf(req: FastifyRequest): RequestContext {
  let context = contexts.get(req);
  if (!context) {
    context = { requestId: req.id, sourceIp: req.ip };
    contexts.set(req, context);
  }
  return context;
}

/**
 * Every request of every face runs in its request context (src/core/audit/context.ts),
 * so each audit event core writes carries the request id and client address.
 * Entered on `onRequest` and again on `preValidation`: the body is read from
 * socket events, outside the context the first hook entered, so the second
 * brings the handler back into it. And every UNAUTHENTICATED answer is an
 * auth.failed event (or, with no organization to own it, a log line), written
 * before the 401 is sent and never failing it. Register on the root before
 * the faces, whose scopes inherit the hooks.
 */
export function auditRequests(app: FastifyInstance, recorder: AuthFailureRecorder): void {
  app.addHook('onRequest', (req, _reply, done) => runInRequest(contextOf(req), done));
  app.addHook('preValidation', (req, _reply, done) => runInRequest(contextOf(req), done));
  app.addHook('onError', async (req, _reply, err) => {
    if (!isMusterError(err, 'UNAUTHENTICATED')) return;
    const caller = req.caller;
    // A resolver that knew who the credential claimed to be says so; an authenticated caller refused later (a system outside its own record) is itself.
    const claim = authFailureClaim(err) ?? (caller ? { actor: callerLabel(caller), organizationId: caller.organizationId, verified: true } : undefined);
    const { requestId, sourceIp } = contextOf(req);
    await recorder.record({ method: req.method, route: req.routeOptions.url ?? req.url.split('?')[0]!, reason: err.message, requestId, sourceIp, claim });
  });
}
