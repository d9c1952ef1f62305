import type { FastifyRequest } from 'fastify';
import { API_KEY_REQUIRED } from '../../auth/api-key.js';
import type { Actor } from '../../core/index.js';
import { MusterError } from '../../core/errors.js';
import { isSystemPrincipal } from '../../core/systems/index.js';
import type {} from '../face.js';

/** The actor of a PuppetDB request (authentication has run: an API key or a trusted reporter). */
export function actorOf(req: FastifyRequest): Actor {
  if (!req.caller || isSystemPrincipal(req.caller)) throw new MusterError('UNAUTHENTICATED', API_KEY_REQUIRED);
  return req.caller;
}
