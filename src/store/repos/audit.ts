import { sql, type Kysely } from 'kysely';
import type { AuditEvent, AuditFilter, AuditRecord, AuditStore } from '../../core/audit/index.js';
import { uuidV7 } from '../../core/ids.js';
import type { AuditEventTable, Schema } from '../schema.js';
import { fromJson, toJson } from './json.js';

function toRecord(row: AuditEventTable): AuditRecord {
  return {
    id: row.id,
    organizationId: row.organization_id,
    actor: row.actor,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    requestId: row.request_id ?? null,
    sourceIp: row.source_ip ?? null,
    details: fromJson<Record<string, unknown>>(row.details, {}),
    createdAt: row.created_at,
  };
}

function toRow(event: AuditEvent, at: Date): AuditEventTable {
  return {
    // Time-ordered ids: each insert appends to the primary key's last page instead of a random one.
    id: uuidV7(at.getTime()),
    organization_id: event.organizationId,
    actor: event.actor,
    action: event.action,
    target_type: event.targetType,
    target_id: event.targetId,
    details: toJson(event.details ?? {}),
    created_at: at.toISOString(),
    request_id: event.requestId ?? null,
    source_ip: event.sourceIp ?? null,
  };
}

/** Audit events on Kysely: append-only, read newest first, deleted only by retention. */
export function auditStore(db: Kysely<Schema>): AuditStore {
  return {
    async record(event, at) {
      await db.insertInto('audit_events').values(toRow(event, at)).execute();
    },

    async recordMany(items) {
      // 10 columns a row: 500 rows stay far below SQLite's 32,766 bound parameters.
      for (let i = 0; i < items.length; i += 500) {
        await db
          .insertInto('audit_events')
          .values(items.slice(i, i + 500).map(({ event, at }) => toRow(event, at)))
          .execute();
      }
    },

    async listEvents(organizationId, filter, limit) {
      const rows = await db
        .selectFrom('audit_events')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where((eb) => {
          const and = [];
          if (filter.actor !== undefined) and.push(eb('actor', '=', filter.actor));
          if (filter.action !== undefined) and.push(actionTerm(filter));
          if (filter.targetType !== undefined) and.push(eb('target_type', '=', filter.targetType));
          if (filter.targetId !== undefined) and.push(eb('target_id', '=', filter.targetId));
          if (filter.requestId !== undefined) and.push(eb('request_id', '=', filter.requestId));
          if (filter.since !== undefined) and.push(eb('created_at', '>=', filter.since));
          if (filter.until !== undefined) and.push(eb('created_at', '<', filter.until));
          const after = filter.after;
          if (after) and.push(eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]));
          return eb.and(and);
        })
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map(toRecord);
    },

    async deleteOlder(before, limit) {
      // One organization at a time, through (organization_id, created_at); a sub-select works on both databases (SQLite has no DELETE … LIMIT by default).
      const organizations = await db.selectFrom('organizations').select('id').execute();
      let deleted = 0;
      for (const { id } of organizations) {
        if (deleted >= limit) break;
        const result = await db
          .deleteFrom('audit_events')
          .where('id', 'in', (eb) =>
            eb
              .selectFrom('audit_events')
              .select('id')
              .where('organization_id', '=', id)
              .where('created_at', '<', before)
              .orderBy('created_at')
              .limit(limit - deleted),
          )
          .executeTakeFirst();
        deleted += Number(result.numDeletedRows);
      }
      return deleted;
    },
  };
}

/**
 * An exact action, or a prefix compared with substr: LIKE would need its `_`
 * (in `api_key.`) escaped, and a range (`>=` / `<`) follows PostgreSQL's
 * collation, which may not order punctuation bytewise.
 */
function actionTerm(filter: AuditFilter) {
  const action = filter.action!;
  return filter.actionPrefix ? sql<boolean>`substr(action, 1, ${sql.lit(action.length)}) = ${action}` : sql<boolean>`action = ${action}`;
}

/** The audit sink alone, on a transaction (a mutation that writes its event with its rows). */
export function auditSink(db: Kysely<Schema>): Pick<AuditStore, 'record'> {
  return { record: auditStore(db).record };
}
