import type { AuditEvent, AuditSink } from './sink.js';

/** One stored audit event. */
export interface AuditRecord {
  id: string;
  organizationId: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  requestId: string | null;
  sourceIp: string | null;
  details: Record<string, unknown>;
  /** ISO 8601, UTC, milliseconds. */
  createdAt: string;
}

/** Which events of one organization to read; every field narrows ("and"). */
export interface AuditFilter {
  actor?: string;
  /** An exact action, or with `actionPrefix` every action that starts with it. */
  action?: string;
  actionPrefix?: boolean;
  targetType?: string;
  targetId?: string;
  requestId?: string;
  /** ISO instants: at or after `since`, before `until`. */
  since?: string;
  until?: string;
  /** Only events after this one in newest-first order (the cursor). */
  after?: { createdAt: string; id: string };
}

/** Audit events in storage: written by every mutation, read newest first, deleted past retention. */
export interface AuditStore extends AuditSink {
  /** Writes several events in one statement (a group commit's worth), each as given (stamp them first). */
  recordMany(items: ReadonlyArray<{ event: AuditEvent; at: Date }>): Promise<void>;
  /** Up to `limit` events of the organization matching `filter`, newest first, ties broken by id (descending). */
  listEvents(organizationId: string, filter: AuditFilter, limit: number): Promise<AuditRecord[]>;
  /** Deletes up to `limit` events created before `before`, oldest first within each organization; answers how many. */
  deleteOlder(before: string, limit: number): Promise<number>;
}
