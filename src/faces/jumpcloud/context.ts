import type { FastifyRequest } from 'fastify';
import type { Actor, Core } from '../../core/index.js';
import { MusterError } from '../../core/errors.js';

/**
 * Who called the JumpCloud face. An API key acts for its organization with its
 * role; a system (System Context API, HTTP Signature `keyId="system/<id>"`)
 * acts only on its own record, and routes that accept systems check that.
 */
export type JumpCloudCaller = { kind: 'api_key'; actor: Actor } | { kind: 'system'; systemId: string; organizationId: string };

declare module 'fastify' {
  interface FastifyRequest {
    jumpcloud: JumpCloudCaller | null;
  }
}

/** What every JumpCloud route gets. */
export interface JumpCloudDeps {
  core: Core;
}

/** The API-key actor of a request; a system caller gets 401, as JumpCloud answers outside the System Context scope. */
export function adminOf(request: FastifyRequest): Actor {
  const caller = request.jumpcloud;
  if (caller?.kind === 'api_key') return caller.actor;
  throw new MusterError('UNAUTHENTICATED', caller ? 'this endpoint is not part of the System Context API' : 'an API key is required (x-api-key)');
}
