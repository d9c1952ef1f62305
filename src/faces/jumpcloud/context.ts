import type { FastifyRequest } from 'fastify';
import type { Actor, Core } from '../../core/index.js';
import { MusterError } from '../../core/errors.js';
import { isSystemPrincipal } from '../../core/systems/index.js';
import type {} from '../face.js';

/** What every JumpCloud route gets. */
export interface JumpCloudDeps {
  core: Core;
}

/** The API-key actor of a request; a system caller gets 401, as JumpCloud answers outside the System Context scope. */
export function adminOf(request: FastifyRequest): Actor {
  const caller = request.caller;
  if (caller && !isSystemPrincipal(caller)) return caller;
  throw new MusterError('UNAUTHENTICATED', caller ? 'this endpoint is not part of the System Context API' : 'an API key is required (x-api-key)');
}
