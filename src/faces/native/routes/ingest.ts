import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { IngestCommandRecord } from '../../../core/ingest/index.js';
import { actorOf, type NativeDeps } from '../context.js';
import { IdParams } from '../schemas.js';

/** An ingest command as the native API shows it (the payload only while queued or discarded). */
function commandView(c: IngestCommandRecord): Record<string, unknown> {
  return {
    id: c.id, command: c.command, version: c.version, certname: c.certname, producer_timestamp: c.producerTimestamp, received_at: c.receivedAt,
    state: c.state, attempts: c.attempts, error: c.error, diagnostics: c.diagnostics, processed_at: c.processedAt, payload: c.payload,
  };
}

/** /v1/ingest: command states, the dead letter office (list, retry, delete), counts, and a certname's facts. */
export function ingestRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  app.get('/ingest/commands/:id', { schema: { tags: ['ingest'], summary: 'An ingest command by the uuid its submission returned', params: IdParams } }, async (req) =>
    commandView(await core.ingest.getCommand(actorOf(req), (req.params as { id: string }).id)),
  );

  app.get(
    '/ingest/discarded',
    { schema: { tags: ['ingest'], summary: 'The dead letter office: commands that failed, newest first', querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) }) } },
    async (req) => ({ items: (await core.ingest.listDiscarded(actorOf(req), Number((req.query as { limit?: string }).limit ?? 100))).map(commandView) }),
  );

  app.post('/ingest/discarded/:id/retry', { schema: { tags: ['ingest'], summary: 'Send a discarded command back to the queue', params: IdParams } }, async (req, reply) => {
    await core.ingest.retryDiscarded(actorOf(req), (req.params as { id: string }).id);
    return reply.status(202).send({ id: (req.params as { id: string }).id, state: 'queued' });
  });

  app.delete('/ingest/discarded/:id', { schema: { tags: ['ingest'], summary: 'Delete a discarded command', params: IdParams } }, async (req, reply) => {
    await core.ingest.deleteDiscarded(actorOf(req), (req.params as { id: string }).id);
    return reply.status(204).send();
  });

  app.get('/ingest/counts', { schema: { tags: ['ingest'], summary: 'Ingest commands by state' } }, async (req) => core.ingest.counts(actorOf(req)));

  app.get('/ingest/systems/:id/facts', { schema: { tags: ['ingest'], summary: 'The latest ingested facts of a system (matched by its certname, else its hostname)', params: IdParams } }, async (req) => {
    const { certname, factset } = await core.ingest.factsOfSystem(actorOf(req), (req.params as { id: string }).id);
    return { certname, facts: factset?.values ?? null, timestamp: factset?.timestamp ?? null, producer_timestamp: factset?.producerTimestamp ?? null, deactivated: factset?.deactivated ?? null };
  });

  app.get('/ingest/facts/:certname', { schema: { tags: ['ingest'], summary: 'The latest facts of a certname', params: Type.Object({ certname: Type.String({ maxLength: 255 }) }) } }, async (req) => {
    const { certname } = req.params as { certname: string };
    const [set] = await core.ingest.factsets(actorOf(req), certname);
    if (!set) return { certname, facts: null };
    return { certname, facts: set.values, environment: set.environment, timestamp: set.timestamp, producer_timestamp: set.producerTimestamp, deactivated: set.deactivated };
  });
}
