import { hash, timingSafeEqual } from 'node:crypto';
import { refusedCredential } from '../core/audit/index.js';
import type { Clock } from '../core/clock.js';
import { MusterError } from '../core/errors.js';
import type { ReplayGuard } from '../core/commands/index.js';
import type { SystemService } from '../core/systems/index.js';
import type { CallerResolver, CredentialRequest } from './caller.js';
import { bodyDigest, parseSignatureHeader, SignatureInputError, signingString, verifySignature } from './http-signature.js';

/** A request as the verifier needs it; faces build this from their framework's request. */
export interface SignedHttpRequest {
  method: string;
  /** Path and query exactly as on the request line. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Raw body, when the request has one (checked against `digest` when that header is signed). */
  body?: Buffer | string | undefined;
}

export interface SystemIdentity {
  systemId: string;
  organizationId: string;
}

/** With `deferBody`: the checks that need the body, which the caller runs once it is read. */
export interface DeferredSystemIdentity extends SystemIdentity {
  /** Checks the body against a signed Digest, then refuses a replay; UNAUTHENTICATED naming the check. */
  checkBody(body: Buffer | string | undefined): Promise<void>;
}

export interface SignatureVerifierDeps {
  systems: Pick<SystemService, 'credentialsFor'>;
  replay: ReplayGuard;
  clock: Clock;
  /** Allowed distance between the Date header and the server clock (default ±5 minutes). */
  skewMs: number;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function header(headers: SignedHttpRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function deny(reason: string): MusterError {
  return new MusterError('UNAUTHENTICATED', `HTTP signature refused: ${reason}`);
}

/**
 * Verifies a request signed by a system with its own key (JumpCloud System
 * Context, and the agent's WebSocket upgrade). Checks, in order: the header's
 * shape, that the request line and the date are signed, the clock skew, the
 * body digest when signed, the signature itself, and — for mutating requests or
 * when `alwaysOnce` — that the same request was not received before.
 *
 * With `deferBody` (the body is not read yet) the digest and replay checks are
 * left to the returned `checkBody`.
 */
export async function verifySystemRequest(
  request: SignedHttpRequest,
  deps: SignatureVerifierDeps,
  options: { alwaysOnce?: boolean; deferBody: true },
): Promise<DeferredSystemIdentity>;
export async function verifySystemRequest(
  request: SignedHttpRequest,
  deps: SignatureVerifierDeps,
  options?: { alwaysOnce?: boolean; deferBody?: false },
): Promise<SystemIdentity>;
export async function verifySystemRequest(
  request: SignedHttpRequest,
  deps: SignatureVerifierDeps,
  options: { alwaysOnce?: boolean; deferBody?: boolean } = {},
): Promise<SystemIdentity | DeferredSystemIdentity> {
  const parsed = parseSignatureHeader(header(request.headers, 'authorization'));
  if (typeof parsed === 'string') throw deny(parsed);
  const keyMatch = /^system\/(\w{1,64})$/.exec(parsed.keyId);
  if (!keyMatch) throw deny('keyId must be "system/<system id>"');
  if (!parsed.headers.includes('date')) throw deny('the date header must be signed');
  if (!parsed.headers.includes('request-line') && !parsed.headers.includes('(request-target)')) {
    throw deny('the request line (request-line or (request-target)) must be signed');
  }
  const date = Date.parse(header(request.headers, 'date') ?? '');
  if (Number.isNaN(date)) throw deny('missing or unreadable Date header');
  const now = deps.clock.now().getTime();
  if (Math.abs(now - date) > deps.skewMs) throw deny(`the Date header is more than ${deps.skewMs / 1000} s away from the server clock`);
  const signedDigest = parsed.headers.includes('digest') ? (header(request.headers, 'digest') ?? '') : undefined;
  if (signedDigest !== undefined && !options.deferBody) checkBodyDigest(signedDigest, request.body);
  let data: string;
  try {
    data = signingString(parsed.headers, { method: request.method, path: request.url, headers: lowerCased(request.headers) });
  } catch (err) {
    if (err instanceof SignatureInputError) throw deny(err.message);
    throw err;
  }
  const credentials = await deps.systems.credentialsFor(keyMatch[1]!);
  // An unknown system and a bad signature answer the same, so ids cannot be probed.
  if (!credentials) throw deny('the signature does not verify');
  // The claimed system's organization sees the refusal in its audit log (the client is told no more than for an unknown one).
  const claimed = (reason: string) =>
    refusedCredential(deny(reason).message, { actor: `system:${keyMatch[1]!}`, organizationId: credentials.organizationId, verified: false });
  if (!verifySignature(parsed, data, credentials.publicKey)) throw claimed('the signature does not verify');
  const identity: SystemIdentity = { systemId: keyMatch[1]!, organizationId: credentials.organizationId };
  const once = options.alwaysOnce === true || MUTATING.has(request.method.toUpperCase());
  const checkBody = async (body: Buffer | string | undefined): Promise<void> => {
    if (signedDigest !== undefined && options.deferBody) {
      try {
        checkBodyDigest(signedDigest, body);
      } catch {
        throw claimed('the Digest header does not match the body');
      }
    }
    if (!once) return;
    const key = replayKey(parsed.signature, request.method, request.url, body);
    const fresh = await deps.replay.remember(key, new Date(date + deps.skewMs).toISOString(), new Date(now).toISOString());
    if (!fresh) throw claimed('this signed request was already used (replay)');
  };
  if (options.deferBody) return { ...identity, checkBody };
  await checkBody(request.body);
  return identity;
}

/**
 * What a replay is: the same signature on the same method, path and query,
 * and body. The reference's recipe signs only the request line and the date,
 * and RSA signatures are deterministic, so two different changes to one path
 * within a second carry the same signature; keyed on the signature alone, the
 * second would be refused. The signature stays in the key, so a captured
 * request cannot be sent again as it was.
 */
export function replayKey(signature: Buffer, method: string, url: string, body: Buffer | string | undefined): string {
  const bodyHash = hash('sha256', body ?? '', 'hex');
  // A request line holds no newline, a base64 signature and a hex digest neither, so the parts cannot run together.
  return hash('sha256', `${signature.toString('base64')}\n${method.toUpperCase()}\n${url}\n${bodyHash}`, 'hex');
}

/**
 * Checks a signed `Digest: SHA-256=<base64>` header against the body (in
 * constant time); UNAUTHENTICATED naming the check when it does not match.
 */
export function checkBodyDigest(sent: string, body: Buffer | string | undefined): void {
  const match = /^SHA-256=(.+)$/i.exec(sent.trim());
  const expected = Buffer.from(bodyDigest(body ?? '').slice('SHA-256='.length), 'base64');
  const given = match ? Buffer.from(match[1]!, 'base64') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw deny('the Digest header does not match the body');
}

function lowerCased(headers: SignedHttpRequest['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const key of Object.keys(headers)) out[key.toLowerCase()] = header(headers, key);
  return out;
}

/** The body checks of each request a system signed, run once its body has been read (`checkSignedBody`). */
const bodyChecks = new WeakMap<object, DeferredSystemIdentity['checkBody']>();

/**
 * The System Context resolver: presented when `Authorization` is an HTTP
 * Signature and no API key is sent; verifies it against the system's
 * enrolled key (date skew, signature). A signed `digest`, and the replay of a
 * mutating request (keyed on the body too), are checked by
 * `checkSignedBody` once the body has been read. With `alwaysOnce` every
 * request is once-only, reads included (the agent's WebSocket upgrade: a
 * captured upgrade cannot be replayed).
 */
export function systemSignatureResolver(deps: SignatureVerifierDeps, options: { alwaysOnce?: boolean } = {}): CallerResolver {
  return {
    name: 'system_signature',
    async resolve(req) {
      if (req.headers['x-api-key'] !== undefined || !/^Signature\s/i.test(String(req.headers.authorization ?? ''))) return undefined;
      const identity = await verifySystemRequest({ method: req.method, url: req.url, headers: req.headers }, deps, { deferBody: true, ...options });
      bodyChecks.set(req, identity.checkBody);
      return { kind: 'system', systemId: identity.systemId, organizationId: identity.organizationId };
    },
  };
}

/** Refuses (401) a system's request whose raw body does not match its signed Digest, or that was already received. */
export async function checkSignedBody(req: CredentialRequest, rawBody: Buffer | undefined): Promise<void> {
  await bodyChecks.get(req)?.(rawBody);
}
