import { currentRequest } from './context.js';

/** One audit event: who did what to what, when. Every mutation writes one. */
export interface AuditEvent {
  organizationId: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
  /** The request it came through; by default the current request's (see context.ts), null outside one. */
  requestId?: string | null;
  sourceIp?: string | null;
}

/** How core writes audit events (the store implements it, inside the mutation's transaction where it can). */
export interface AuditSink {
  record(event: AuditEvent, at: Date): Promise<void>;
}

/**
 * `event` with the current request's id and address, unless it names its
 * own: for events written later than their request, in a batch that other
 * requests share (enrollment's group commit).
 */
export function stampRequest<E extends AuditEvent>(event: E): E {
  if (event.requestId !== undefined) return event;
  const request = currentRequest();
  return { ...event, requestId: request?.requestId ?? null, sourceIp: event.sourceIp ?? request?.sourceIp ?? null };
}

/** A sink that stamps each event with its request before `inner` writes it. */
export function requestStampingSink(inner: AuditSink): AuditSink {
  return { record: (event, at) => inner.record(stampRequest(event), at) };
}
