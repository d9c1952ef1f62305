import { requireRole, type Actor } from '../access/index.js';
import type { Clock } from '../clock.js';
import { invalid } from '../errors.js';
import { AuthFailureRecorder, type AuthFailureOptions } from './auth-failures.js';
import type { AuditSink } from './sink.js';
import type { AuditFilter, AuditRecord, AuditStore } from './store.js';

/** What a reader of the audit log asks for, as sent (strings, all optional). */
export interface AuditListQuery {
  actor?: string | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  requestId?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** A page of events, newest first, and the cursor of the next (null after the last). */
export interface AuditPage {
  items: AuditRecord[];
  nextCursor: string | null;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
/** Events read per query while exporting: big enough to amortize a round trip, small enough to stream steadily. */
const EXPORT_PAGE = 500;

const CURSOR = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)~([\w-]{1,64})$/;

/** The cursor after `event`: its time and id, which order the log (time alone ties). */
function cursorAfter(event: AuditRecord): string {
  return Buffer.from(`${event.createdAt}~${event.id}`).toString('base64url');
}

function readCursor(cursor: string): { createdAt: string; id: string } {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw invalid('cursor', "must be a previous page's next_cursor");
  return { createdAt: match[1]!, id: match[2]! };
}

function instant(field: string, value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid(field, 'must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z');
  return new Date(ms).toISOString();
}

function text(field: string, value: string | undefined, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (value === '' || value.length > max) throw invalid(field, `must be 1 to ${max} characters`);
  return value;
}

/** The store's filter for `query` (validated), without paging. */
function filterOf(query: AuditListQuery): AuditFilter {
  const filter: AuditFilter = {};
  const actor = text('actor', query.actor, 200);
  if (actor !== undefined) filter.actor = actor;
  const action = text('action', query.action, 100);
  if (action !== undefined) {
    // `job.` and `job.*` both mean every job action; anything else is exact.
    const prefix = action.endsWith('*') || action.endsWith('.');
    filter.action = action.replace(/\*$/, '');
    if (prefix) filter.actionPrefix = true;
  }
  const targetType = text('target_type', query.targetType, 50);
  if (targetType !== undefined) filter.targetType = targetType;
  const targetId = text('target_id', query.targetId, 200);
  if (targetId !== undefined) filter.targetId = targetId;
  const requestId = text('request_id', query.requestId, 200);
  if (requestId !== undefined) filter.requestId = requestId;
  if (query.since !== undefined) filter.since = instant('since', query.since);
  if (query.until !== undefined) filter.until = instant('until', query.until);
  if (filter.since && filter.until && filter.since >= filter.until) throw invalid('until', 'must be after since');
  if (query.cursor !== undefined) filter.after = readCursor(query.cursor);
  return filter;
}

/**
 * The audit log as its readers see it: admins only (it names every key,
 * address and change of the organization), one organization's events only,
 * newest first, paged by a cursor on (time, id) so events written while a
 * reader pages neither repeat nor push others off a page.
 */
export class AuditService {
  constructor(
    private readonly store: Pick<AuditStore, 'listEvents'>,
    /** Where auth.failed events go: the request-stamping sink of the core. */
    private readonly sink: AuditSink,
    private readonly clock: Clock,
  ) {}

  /** A recorder of refused requests (auth.failed) that logs what no organization owns to `log`. */
  authFailureRecorder(log: (message: string, fields: Record<string, unknown>) => void, options: Partial<AuthFailureOptions> = {}): AuthFailureRecorder {
    return new AuthFailureRecorder(this.sink, this.clock, log, options);
  }

  /** A page of the organization's events matching `query`. */
  async list(actor: Actor, query: AuditListQuery): Promise<AuditPage> {
    requireRole(actor, 'admin');
    const limit = query.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalid('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
    const filter = filterOf(query);
    // One more than asked says whether another page follows without a second query.
    const rows = await this.store.listEvents(actor.organizationId, filter, limit + 1);
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? cursorAfter(items.at(-1)!) : null };
  }

  /**
   * Every event matching `query` (at most `query.limit` when given), newest
   * first, read a page at a time as the consumer pulls: an export of millions
   * holds one page in memory. Validation and the role check happen before the
   * first event is asked for, so a bad query fails before anything is sent.
   */
  async export(actor: Actor, query: AuditListQuery): Promise<AsyncIterable<AuditRecord>> {
    requireRole(actor, 'admin');
    if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 1)) throw invalid('limit', 'must be a positive integer');
    const filter = filterOf(query);
    const store = this.store;
    const organizationId = actor.organizationId;
    let remaining = query.limit ?? Number.POSITIVE_INFINITY;
    return {
      async *[Symbol.asyncIterator]() {
        let after = filter.after;
        while (remaining > 0) {
          const page = await store.listEvents(organizationId, { ...filter, ...(after ? { after } : {}) }, Math.min(EXPORT_PAGE, remaining));
          for (const event of page) yield event;
          remaining -= page.length;
          if (page.length < EXPORT_PAGE) return;
          const last = page.at(-1)!;
          after = { createdAt: last.createdAt, id: last.id };
        }
      },
    };
  }
}
