import type {} from '@fastify/swagger';
import type { FastifyRequest } from 'fastify';
import type { Actor, Core } from '../../core/index.js';
import { MusterError } from '../../core/errors.js';
import { isSystemPrincipal } from '../../core/systems/index.js';
import type {} from '../face.js';

/** What every native route gets. */
export interface NativeDeps {
  core: Core;
}

/** The API key's actor of a native request (authentication has run; the native API accepts API keys only). */
export function actorOf(request: FastifyRequest): Actor {
  const caller = request.caller;
  if (!caller || isSystemPrincipal(caller)) throw new MusterError('UNAUTHENTICATED', 'an API key is required');
  return caller;
}
