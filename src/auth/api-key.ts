import type { KeyService } from '../core/keys/index.js';
import { refusedCredential } from '../core/audit/index.js';
import { MusterError } from '../core/errors.js';
import type { CallerResolver } from './caller.js';

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

/** What a request without a usable API key is told. */
export const API_KEY_REQUIRED = 'an API key is required (Authorization: Bearer <key> or x-api-key)';

/**
 * The API-key resolver: presented when the request sends `x-api-key` or an
 * `Authorization` header other than an HTTP Signature (which is a system's:
 * see system-signature.ts). An Authorization header that holds no key
 * (`Basic` with an empty user name, an unknown scheme) is a refused
 * credential, not an absent one. With `organizationHeader`, a request that
 * names an organization there must name the key's own.
 */
export function apiKeyResolver(keys: KeyService, options: { organizationHeader?: string } = {}): CallerResolver {
  return {
    name: 'api_key',
    async resolve(req) {
      const authorization = req.headers.authorization;
      const sent = req.headers['x-api-key'] !== undefined || (authorization !== undefined && !/^Signature\s/i.test(String(authorization)));
      if (!sent) return undefined;
      const secret = presentedApiKey(req.headers);
      if (!secret) throw new MusterError('UNAUTHENTICATED', API_KEY_REQUIRED);
      const actor = await keys.authenticate(secret);
      // JumpCloud's clients may name the organization (x-org-id): it must be the key's own.
      const named = options.organizationHeader ? req.headers[options.organizationHeader] : undefined;
      if (typeof named === 'string' && named !== '' && named !== actor.organizationId) {
        throw refusedCredential(`${options.organizationHeader} does not name the organization of this API key`, {
          actor: actor.label,
          organizationId: actor.organizationId,
          verified: true,
        });
      }
      return actor;
    },
  };
}
