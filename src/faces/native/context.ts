import type {} from '@fastify/swagger';
import type { FastifyRequest } from 'fastify';
import type { Actor, Core } from '../../core/index.js';
import { MusterError } from '../../core/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
}

/** What every native route gets. */
export interface NativeDeps {
  core: Core;
}

/** The authenticated actor of a native request (the auth hook has run). */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new MusterError('UNAUTHENTICATED', 'an API key is required');
  return request.actor;
}
