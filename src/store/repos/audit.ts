import type { Kysely } from 'kysely';
import type { AuditSink } from '../../core/audit/index.js';
import { newId } from '../../core/ids.js';
import type { Schema } from '../schema.js';
import { toJson } from './json.js';

/** Audit events on Kysely: append-only. */
export function auditSink(db: Kysely<Schema>): AuditSink {
  return {
    async record(event, at) {
      await db
        .insertInto('audit_events')
        .values({
          id: newId(),
          organization_id: event.organizationId,
          actor: event.actor,
          action: event.action,
          target_type: event.targetType,
          target_id: event.targetId,
          details: toJson(event.details ?? {}),
          created_at: at.toISOString(),
        })
        .execute();
    },
  };
}
