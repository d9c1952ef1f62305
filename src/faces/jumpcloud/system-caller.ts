import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkSignedBody as checkBody } from '../../auth/system-signature.js';
import type { Caller } from '../../core/systems/index.js';
import type {} from '../face.js';
import { parseJsonBodies } from '../json-body.js';

/** Raw bodies, kept for the checks of what a system signed (JSON APIs: at most the body limit). */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

/** Refuses (401) a system's request whose body does not match its signed Digest, or that was already received. */
export async function checkSignedBody(req: FastifyRequest): Promise<void> {
  await checkBody(req, rawBodies.get(req));
}

/** JSON bodies are parsed as on every face (empty is none), and their raw bytes kept for the body checks. */
export function keepRawJsonBodies(app: FastifyInstance): void {
  parseJsonBodies(app, { keep: (req, raw) => rawBodies.set(req, raw), constructorPoisoning: 'ignore' });
}

/** The core's view of a JumpCloud caller: an API key's actor, or a system acting for itself. */
export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw new Error('JumpCloud route reached without authentication');
  return req.caller;
}
