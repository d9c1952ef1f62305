import { AsyncLocalStorage } from 'node:async_hooks';

/** The request a change came through, as the audit log records it. */
export interface RequestContext {
  requestId: string;
  /** The client address, after the server's proxy settings. */
  sourceIp: string;
}

/**
 * Why AsyncLocalStorage and not a field on the actor: a change is made by
 * callers core does not see as actors (a trigger's secret, an enrollment key,
 * a trusted PuppetDB reporter) and through services that call each other
 * (a trigger fires a script, which launches a job), and every one of their
 * audit events must carry the request that caused it. The HTTP app enters
 * the context once per request (src/app.ts, with no Fastify type crossing
 * into core); core's audit sink reads it when an event is written. Work that
 * no request started (schedules, sweeps) has none and records null.
 */
const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` (and everything it starts) as part of the request `context`. */
export function runInRequest<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The request the current code runs for, if any. */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}
