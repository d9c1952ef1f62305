import type { Clock } from '../clock.js';
import { MusterError } from '../errors.js';
import type { AuditSink } from './sink.js';

/**
 * Who a refused credential said it was. `verified` when the request proved
 * it (a revoked key's secret matched; a valid key named another
 * organization): the event's actor is then the claim; otherwise the actor is
 * `anonymous` and the claim goes in the details.
 */
export interface CredentialClaim {
  actor: string;
  organizationId?: string;
  verified: boolean;
  /** What the audit log records when it says more than the client is told (a revoked key is "not valid" to the client). */
  reason?: string;
}

/** One refused request, as a face saw it. */
export interface AuthFailure {
  method: string;
  /** The route's path pattern (`/v1/jobs/:id`), or the path when no route matched. */
  route: string;
  reason: string;
  requestId: string;
  sourceIp: string;
  claim?: CredentialClaim | undefined;
}

const claims = new WeakMap<MusterError, CredentialClaim>();

/** An UNAUTHENTICATED error that carries what the credential claimed (for the auth.failed event, never for the client). */
export function refusedCredential(message: string, claim: CredentialClaim): MusterError {
  const err = new MusterError('UNAUTHENTICATED', message);
  claims.set(err, claim);
  return err;
}

/** The claim a refused credential carried, if its resolver knew one. */
export function authFailureClaim(err: unknown): CredentialClaim | undefined {
  return err instanceof MusterError ? claims.get(err) : undefined;
}

export interface AuthFailureOptions {
  /** Events written per source address per window at most; the rest are counted, and the count rides on the next one written. */
  perAddress: number;
  windowMs: number;
  /** Addresses remembered at most (a flood from many addresses cannot grow memory without bound). */
  maxAddresses: number;
}

const DEFAULTS: AuthFailureOptions = { perAddress: 20, windowMs: 60_000, maxAddresses: 10_000 };

/**
 * Writes `auth.failed` events, bounded and never failing its caller.
 *
 * - With an organization (the claimed key's or system's), the event goes to
 *   that organization's log. Without one (an unknown key, a malformed
 *   header, no credential), no tenant owns the failure: it is one
 *   system-level log line (`log`), never a row some tenant would see or a row
 *   no reader can reach.
 * - A flood is bounded per source address: `perAddress` events a window, then
 *   only a count, written with the next event that window allows (details
 *   `suppressed`) and logged once when suppression starts. Refused
 *   credentials are not counted by the rate limiter (authentication runs
 *   before it), so this bound is what keeps a flood from becoming a write
 *   per request.
 * - A failing write is logged and swallowed: the client still gets its 401.
 */
export class AuthFailureRecorder {
  private readonly windows = new Map<string, { start: number; written: number; suppressed: number }>();
  private readonly options: AuthFailureOptions;

  constructor(
    private readonly audit: AuditSink,
    private readonly clock: Clock,
    private readonly log: (message: string, fields: Record<string, unknown>) => void,
    options: Partial<AuthFailureOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Records `failure`; resolves once written (or dropped), never rejects. */
  async record(failure: AuthFailure): Promise<void> {
    const { claim } = failure;
    const reason = claim?.reason ?? failure.reason;
    const fields = { method: failure.method, route: failure.route, reason, source_ip: failure.sourceIp, request_id: failure.requestId };
    try {
      const suppressed = this.admit(failure.sourceIp);
      if (suppressed === undefined) return;
      if (claim?.organizationId === undefined) {
        this.log('auth.failed', { ...fields, claimed: claim?.actor ?? null, ...(suppressed > 0 ? { suppressed } : {}) });
        return;
      }
      await this.audit.record(
        {
          organizationId: claim.organizationId,
          actor: claim.verified ? claim.actor : 'anonymous',
          action: 'auth.failed',
          targetType: 'route',
          targetId: `${failure.method} ${failure.route}`,
          details: { reason, ...(claim.verified ? {} : { claimed: claim.actor }), ...(suppressed > 0 ? { suppressed } : {}) },
          requestId: failure.requestId,
          sourceIp: failure.sourceIp,
        },
        this.clock.now(),
      );
    } catch (err) {
      this.log('could not write an auth.failed audit event', { ...fields, err });
    }
  }

  /** How many failures from `address` went unrecorded before this one, or undefined when this one is over the bound. */
  private admit(address: string): number | undefined {
    const now = this.clock.now().getTime();
    let w = this.windows.get(address);
    if (!w || now - w.start >= this.options.windowMs) {
      if (!w && this.windows.size >= this.options.maxAddresses) this.windows.clear();
      w = { start: now, written: 0, suppressed: w?.suppressed ?? 0 };
      this.windows.set(address, w);
    }
    if (w.written >= this.options.perAddress) {
      if (w.suppressed++ === 0)
        this.log('auth.failed events suppressed for this address until the window ends', { source_ip: address, per_window: this.options.perAddress });
      return undefined;
    }
    w.written++;
    const suppressed = w.suppressed;
    w.suppressed = 0;
    return suppressed;
  }
}
