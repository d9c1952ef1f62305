import type { FastifyInstance } from 'fastify';
import {
  CertnameFacts,
  CertnameParams,
  DiscardedQuery,
  IdParams,
  IngestCommand,
  IngestCommandList,
  IngestCounts,
  NoContent,
  Requeued,
  SystemFacts,
} from '../../../api/native/index.js';
import type { IngestCommandRecord } from '../../../core/ingest/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { answers } from '../schemas.js';

/** An ingest command as the native API shows it (the payload only while queued or discarded). */
function commandView(c: IngestCommandRecord): IngestCommand {
  return {
    id: c.id,
    command: c.command,
    version: c.version,
    certname: c.certname,
    producer_timestamp: c.producerTimestamp,
    received_at: c.receivedAt,
    state: c.state,
    attempts: c.attempts,
    error: c.error,
    diagnostics: c.diagnostics,
    processed_at: c.processedAt,
    payload: c.payload,
  };
}

/** /v1/ingest: command states, the dead letter office (list, retry, delete), counts, and a certname's facts. */
export function ingestRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const tags = ['ingest'];

  api.get(
    '/ingest/commands/:id',
    { schema: { tags, summary: 'An ingest command by the uuid its submission returned', params: IdParams, response: answers({ 200: IngestCommand }) } },
    async (req) => commandView(await core.ingest.getCommand(actorOf(req), req.params.id)),
  );

  api.get(
    '/ingest/discarded',
    {
      schema: {
        tags,
        summary: 'The dead letter office: commands that failed, newest first',
        querystring: DiscardedQuery,
        response: answers({ 200: IngestCommandList }),
      },
    },
    async (req) => ({ items: (await core.ingest.listDiscarded(actorOf(req), Number(req.query.limit ?? 100))).map(commandView) }),
  );

  api.post(
    '/ingest/discarded/:id/retry',
    { schema: { tags, summary: 'Send a discarded command back to the queue', params: IdParams, response: answers({ 202: Requeued }) } },
    async (req, reply) => {
      await core.ingest.retryDiscarded(actorOf(req), req.params.id);
      return reply.status(202).send({ id: req.params.id, state: 'queued' });
    },
  );

  api.delete(
    '/ingest/discarded/:id',
    { schema: { tags, summary: 'Delete a discarded command', params: IdParams, response: answers({ 204: NoContent }) } },
    async (req, reply) => {
      await core.ingest.deleteDiscarded(actorOf(req), req.params.id);
      return reply.status(204).send();
    },
  );

  api.get('/ingest/counts', { schema: { tags, summary: 'Ingest commands by state', response: answers({ 200: IngestCounts }) } }, async (req) =>
    core.ingest.counts(actorOf(req)),
  );

  api.get(
    '/ingest/systems/:id/facts',
    {
      schema: {
        tags,
        summary: 'The latest ingested facts of a system (matched by its certname, else its hostname)',
        params: IdParams,
        response: answers({ 200: SystemFacts }),
      },
    },
    async (req) => {
      const { certname, factset } = await core.ingest.factsOfSystem(actorOf(req), req.params.id);
      return {
        certname,
        facts: factset?.values ?? null,
        timestamp: factset?.timestamp ?? null,
        producer_timestamp: factset?.producerTimestamp ?? null,
        deactivated: factset?.deactivated ?? null,
      };
    },
  );

  api.get(
    '/ingest/facts/:certname',
    { schema: { tags, summary: 'The latest facts of a certname', params: CertnameParams, response: answers({ 200: CertnameFacts }) } },
    async (req) => {
      const { certname } = req.params;
      const [set] = await core.ingest.factsets(actorOf(req), certname);
      if (!set) return { certname, facts: null };
      return {
        certname,
        facts: set.values,
        environment: set.environment,
        timestamp: set.timestamp,
        producer_timestamp: set.producerTimestamp,
        deactivated: set.deactivated,
      };
    },
  );
}
