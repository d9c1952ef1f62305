export { SessionService, DEFAULT_SESSION_LIMITS, type OpenSession, type OpenResult, type SessionLimits } from './service.js';
export { NO_SESSION_LINK, type Attachment, type SessionLink, type SessionViewer, type ShellStart, type ViewerEvent } from './link.js';
export { ATTACH_TICKET_TTL_MS } from './attach-tickets.js';
export { Recording, asciicastHeader } from './recording.js';
export { CRITERION_MAX, CUSTOM_FIELD_MAX, CUSTOM_TOTAL_MAX, criteriaSelector, validCriteria, validCustom } from './criteria.js';
export {
  END_REASONS,
  type EndReason,
  type SessionCriteria,
  type SessionEnd,
  type SessionRecord,
  type SessionSettings,
  type SessionState,
  type SessionStore,
} from './store.js';
