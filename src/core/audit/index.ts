export { currentRequest, runInRequest, type RequestContext } from './context.js';
export { AuditService, type AuditListQuery, type AuditPage } from './service.js';
export { AuditSweeper, type RetentionOptions } from './sweeper.js';
export { authFailureClaim, refusedCredential, AuthFailureRecorder, type AuthFailure, type AuthFailureOptions, type CredentialClaim } from './auth-failures.js';
export type { AuditFilter, AuditRecord, AuditStore } from './store.js';

export { requestStampingSink, stampRequest, type AuditEvent, type AuditSink } from './sink.js';
