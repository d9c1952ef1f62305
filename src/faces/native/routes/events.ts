import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { IdParams } from '../../../api/native/index.js';
import type { EventScope } from '../../../core/jobs/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { answers } from '../schemas.js';

/** The stream itself: written by hand (the reply is hijacked), so described by its media type; each event's data is OutputEvent, RunEndEvent or EndEvent. */
const EventStream = {
  description: 'text/event-stream: "output" events (OutputEvent), "run" events (RunEndEvent), then "end" (EndEvent); each with an id to resume from',
  content: { 'text/event-stream': { schema: Type.String() } },
};

/** SSE keep-alive comment, so proxies do not close an idle stream. */
const HEARTBEAT_MS = 15_000;

async function streamEvents(deps: NativeDeps, req: FastifyRequest, reply: FastifyReply, scope: EventScope): Promise<void> {
  const actor = actorOf(req);
  // Existence and permission first, so those errors are ordinary JSON answers.
  if ('jobId' in scope) await deps.core.jobs.get(actor, scope.jobId);
  else await deps.core.jobs.run(actor, scope.runId);
  const lastEventId = typeof req.headers['last-event-id'] === 'string' ? req.headers['last-event-id'] : undefined;
  const abort = new AbortController();
  const events = deps.core.events.stream(actor, scope, lastEventId, abort.signal);
  const first = await events.next(); // a bad Last-Event-ID is still a 400 here
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  raw.on('close', () => abort.abort());
  const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
  try {
    for (let step = first; !step.done; step = await events.next()) {
      const e = step.value;
      raw.write(`${e.id ? `id: ${e.id}\n` : ''}event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
    }
  } catch (err) {
    req.log.error({ err }, 'event stream failed');
    raw.write(`event: error\ndata: ${JSON.stringify({ message: `the stream failed (request id ${req.id}); reconnect with Last-Event-ID` })}\n\n`);
  } finally {
    clearInterval(heartbeat);
    abort.abort();
    raw.end();
  }
}

/** GET /v1/jobs/{id}/events and /v1/runs/{id}/events: live output and run endings, resumable with Last-Event-ID. */
export function eventRoutes(app: FastifyInstance, deps: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const doc = (what: string) => ({
    tags: ['jobs'],
    summary: `Server-Sent Events for a ${what}: "output" (chunks), "run" (a run ended), then "end". Resume with Last-Event-ID.`,
    params: IdParams,
    response: answers({ 200: EventStream }),
  });
  api.get('/jobs/:id/events', { schema: doc('job') }, (req, reply) => streamEvents(deps, req, reply, { jobId: req.params.id }));
  api.get('/runs/:id/events', { schema: doc('run') }, (req, reply) => streamEvents(deps, req, reply, { runId: req.params.id }));
}
