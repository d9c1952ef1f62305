import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { AuditList, AuditQuery, type AuditEvent } from '../../../api/native/index.js';
import type { AuditListQuery, AuditRecord } from '../../../core/audit/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { answers } from '../schemas.js';

/** The wire shape of one event. */
export function auditView(e: AuditRecord): AuditEvent {
  return {
    id: e.id,
    at: e.createdAt,
    actor: e.actor,
    action: e.action,
    target_type: e.targetType,
    target_id: e.targetId,
    request_id: e.requestId,
    source_ip: e.sourceIp,
    details: e.details,
  };
}

function coreQuery(q: AuditQuery): AuditListQuery {
  return {
    actor: q.actor,
    action: q.action,
    targetType: q.target_type,
    targetId: q.target_id,
    requestId: q.request_id,
    since: q.since,
    until: q.until,
    limit: q.limit === undefined ? undefined : Number(q.limit),
    cursor: q.cursor,
  };
}

/** The export: one AuditEvent per line, written as it is read. */
const JsonLines = {
  description: 'application/x-ndjson: one AuditEvent per line, newest first',
  content: { 'application/x-ndjson': { schema: Type.String() } },
};

/** GET /v1/audit and /v1/audit/export: the organization's audit log (admin). */
export function auditRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const tags = ['audit'];
  // Audit names every key, address and change of the organization: admins only, reads included.
  const config = { role: 'admin' as const };

  api.get(
    '/audit',
    {
      config,
      schema: {
        tags,
        summary: 'Audit events, newest first, filtered; page with next_cursor (admin)',
        querystring: AuditQuery,
        response: answers({ 200: AuditList }),
      },
    },
    async (req) => {
      const page = await core.audit.list(actorOf(req), coreQuery(req.query));
      return { items: page.items.map(auditView), next_cursor: page.nextCursor };
    },
  );

  api.get(
    '/audit/export',
    {
      config,
      schema: {
        tags,
        summary: "Every audit event the filters match as JSON lines, streamed (admin); limit caps the count, cursor starts after a page's last event",
        querystring: AuditQuery,
        response: answers({ 200: JsonLines }),
      },
    },
    async (req, reply) => {
      // Validated and authorized here, so a bad filter is a JSON 400 before the stream starts.
      const events = await core.audit.export(actorOf(req), coreQuery(req.query));
      const lines = Readable.from(
        (async function* () {
          for await (const e of events) yield `${JSON.stringify(auditView(e))}\n`;
        })(),
      );
      // Fastify pipes a stream as it is (with backpressure); the schema above types the reply as the text it becomes.
      return reply
        .type('application/x-ndjson')
        .header('cache-control', 'no-store')
        .send(lines as unknown as string);
    },
  );
}
