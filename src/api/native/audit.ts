import Type, { type Static } from 'typebox';
import { Instant, Nullable } from './common.js';

/**
 * One audit event as `GET /v1/audit` answers it: who (`actor`: `key:<id>`,
 * `system:<id>`, `trigger:<name>`, `anonymous`) did what (`action`, e.g.
 * `job.launch`, `auth.failed`) to what (`target_type`/`target_id`), through
 * which request and from which address.
 */
export const AuditEvent = Type.Object({
  id: Type.String(),
  at: Instant,
  actor: Type.String(),
  action: Type.String(),
  target_type: Type.String(),
  target_id: Type.String(),
  request_id: Nullable(Type.String()),
  source_ip: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
});
export type AuditEvent = Static<typeof AuditEvent>;

/** GET /v1/audit: newest first; pass `next_cursor` back as `cursor` for the next page. */
export const AuditList = Type.Object({ items: Type.Array(AuditEvent), next_cursor: Nullable(Type.String()) });
export type AuditList = Static<typeof AuditList>;

/** GET /v1/audit's filters; all optional, all combined with "and". */
export const AuditQuery = Type.Object(
  {
    actor: Type.Optional(Type.String({ maxLength: 200, description: 'Exact actor, e.g. key:01H…' })),
    action: Type.Optional(Type.String({ maxLength: 100, description: 'Exact action, or a prefix ending in `.` or `*` (`job.`, `session.*`)' })),
    target_type: Type.Optional(Type.String({ maxLength: 50 })),
    target_id: Type.Optional(Type.String({ maxLength: 200 })),
    request_id: Type.Optional(Type.String({ maxLength: 200, description: 'Every event one request wrote' })),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or after this instant' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'Events before this instant' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: '1–1000; 100 by default' })),
    cursor: Type.Optional(Type.String({ maxLength: 100, description: "The previous page's next_cursor" })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;
