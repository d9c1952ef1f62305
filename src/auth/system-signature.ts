import { hash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { MusterError } from '../core/errors.js';
import type { SystemService } from '../core/systems/index.js';
import type { ReplayStore } from '../store/index.js';
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
  /** With `deferDigest`: the signed Digest header, which the caller checks against the body once read. */
  signedDigest?: string;
}

export interface SignatureVerifierDeps {
  systems: Pick<SystemService, 'credentialsFor'>;
  replay: ReplayStore;
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
 * when `alwaysOnce` — that the signature was not used before.
 */
export async function verifySystemRequest(
  request: SignedHttpRequest,
  deps: SignatureVerifierDeps,
  options: { alwaysOnce?: boolean; deferDigest?: boolean } = {},
): Promise<SystemIdentity> {
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
  if (signedDigest !== undefined && !options.deferDigest) checkBodyDigest(signedDigest, request.body);
  let data: string;
  try {
    data = signingString(parsed.headers, { method: request.method, path: request.url, headers: lowerCased(request.headers) });
  } catch (err) {
    if (err instanceof SignatureInputError) throw deny(err.message);
    throw err;
  }
  const credentials = await deps.systems.credentialsFor(keyMatch[1]!);
  // An unknown system and a bad signature answer the same, so ids cannot be probed.
  if (!credentials || !verifySignature(parsed, data, credentials.publicKey)) throw deny('the signature does not verify');
  if (options.alwaysOnce || MUTATING.has(request.method.toUpperCase())) {
    const digest = hash('sha256', parsed.signature, 'hex');
    const fresh = await deps.replay.remember(digest, new Date(date + deps.skewMs).toISOString(), new Date(now).toISOString());
    if (!fresh) throw deny('this signature was already used (replay)');
  }
  return { systemId: keyMatch[1]!, organizationId: credentials.organizationId, ...(signedDigest !== undefined && options.deferDigest ? { signedDigest } : {}) };
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
