/** One audit event: who did what to what, when. Every mutation writes one. */
export interface AuditEvent {
  organizationId: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
}

/** How core writes audit events (the store implements it, inside the mutation's transaction where it can). */
export interface AuditSink {
  record(event: AuditEvent, at: Date): Promise<void>;
}
