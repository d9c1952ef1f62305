import { createHmac, timingSafeEqual } from 'node:crypto';
import { envNameProblem } from '../../lib/env-policy.js';
import { invalid, MusterError } from '../errors.js';

/** The largest trigger body accepted, before parsing. */
export const TRIGGER_BODY_MAX_BYTES = 1024 * 1024;

/**
 * A trigger body → the environment of the commands it starts, as JumpCloud
 * does it: each top-level key becomes a variable; strings as they are,
 * numbers and booleans as their JSON text, objects and arrays as the string
 * `[object Object]` (JumpCloud's documented behaviour, kept for scripts that
 * test for it). An empty body is no variables. Values reach the script only
 * through its environment, and a key that would change how the script runs
 * (BASH_ENV, PATH, LD_PRELOAD, …: lib/env-policy.ts) refuses the whole call
 * before anything is launched.
 */
export function triggerEnv(body: string | undefined): Record<string, string> {
  if (body !== undefined && Buffer.byteLength(body) > TRIGGER_BODY_MAX_BYTES) {
    throw new MusterError('PAYLOAD_TOO_LARGE', `the trigger body is larger than ${TRIGGER_BODY_MAX_BYTES} bytes`);
  }
  if (body === undefined || body.trim() === '') return {};
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    throw invalid('body', 'is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw invalid('body', 'must be a JSON object: its top-level keys become environment variables');
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(data)) {
    const problem = envNameProblem(name);
    if (problem !== undefined) throw invalid(`body.${name}`, problem);
    env[name] = typeof value === 'string' ? value : typeof value === 'object' && value !== null ? '[object Object]' : JSON.stringify(value);
  }
  return env;
}

/** How far a signed call's timestamp may be from the server's clock. */
export const SIGNATURE_WINDOW_S = 300;

/** The parsed `X-Muster-Signature: t=<unix>,v1=<hex>` header, or INVALID_ARGUMENT naming what is wrong. */
export function parseSignature(header: string): { t: number; v1: string } {
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = parts.t !== undefined && /^\d{1,12}$/.test(parts.t) ? Number(parts.t) : NaN;
  const v1 = parts.v1 ?? '';
  if (Number.isNaN(t) || !/^[0-9a-f]{64}$/i.test(v1)) {
    throw new MusterError('UNAUTHENTICATED', 'X-Muster-Signature must be t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">');
  }
  return { t, v1: v1.toLowerCase() };
}

/** The hex HMAC-SHA256 of `"<t>.<body>"` under `secret` (what a caller signs). */
export function signTrigger(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}

/** True when `v1` is the signature of `t` and `body` under `secret` (constant-time). */
export function signatureMatches(secret: string, t: number, body: string, v1: string): boolean {
  const want = Buffer.from(signTrigger(secret, t, body), 'hex');
  const got = Buffer.from(v1, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
