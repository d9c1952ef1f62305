import type { Actor } from '../core/access/index.js';
import { MusterError } from '../core/errors.js';
import type { KeyService } from '../core/keys/index.js';

/**
 * Finds the API key a request presents: `Authorization: Bearer <key>` or
 * `x-api-key: <key>`, or HTTP Basic with the key as user name (SimpleMDM).
 */
export function presentedApiKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const xApiKey = headers['x-api-key'];
  if (typeof xApiKey === 'string' && xApiKey !== '') return xApiKey;
  const auth = headers.authorization;
  if (typeof auth !== 'string') return undefined;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(\S+)\s*$/i.exec(auth);
  if (basic) {
    const user = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0];
    return user || undefined;
  }
  return undefined;
}

/** Resolves the request's API key to an actor; UNAUTHENTICATED when absent or invalid. */
export async function authenticateApiKey(keys: KeyService, headers: Record<string, string | string[] | undefined>): Promise<Actor> {
  const secret = presentedApiKey(headers);
  if (!secret) throw new MusterError('UNAUTHENTICATED', 'an API key is required (Authorization: Bearer <key> or x-api-key)');
  return keys.authenticate(secret);
}
