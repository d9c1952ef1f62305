import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Secrets are 32 random bytes, base64url, behind a readable prefix (`mk_` for
 * API keys, `mek_` for enrollment keys). Only SHA-256 digests are stored: a
 * 256-bit random secret needs no slow hash, and lookups stay O(1).
 */
export function generateSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** The stored form of a secret. */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** Constant-time comparison of two hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** What a listing shows of a secret: enough to recognise it, never enough to use it. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, Math.min(10, Math.floor(secret.length / 3)));
}

/** Explicitly chosen secrets (bootstrap) must not be guessable. */
export const MIN_SECRET_LENGTH = 20;
