import type { FastifyInstance, FastifyRequest } from 'fastify';
import { verifySystemRequest, type DeferredSystemIdentity, type SignatureVerifierDeps } from '../../auth/system-signature.js';
import type { Caller } from '../../core/systems/index.js';
import { parseJsonBodies } from '../json-body.js';
import type { JumpCloudCaller } from './context.js';
import type { SystemCaller } from './index.js';

/** The checks of a system's request that need its body (signed Digest, replay), run once it has been read. */
const bodyChecks = new WeakMap<FastifyRequest, DeferredSystemIdentity['checkBody']>();
/** Raw bodies, kept for those checks (JSON APIs: at most the body limit). */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

/**
 * The System Context authenticator: verifies `Authorization: Signature
 * keyId="system/<id>"…` against the system's enrolled key (date skew,
 * signature). A signed `digest`, and the replay of a mutating request (which
 * is keyed on the body too), are checked later, by `checkSignedBody`, because
 * the body is not read yet at `onRequest`.
 */
export function systemCaller(deps: SignatureVerifierDeps): SystemCaller {
  return async (req) => {
    const identity = await verifySystemRequest({ method: req.method, url: req.url, headers: req.headers }, deps, { deferBody: true });
    bodyChecks.set(req, identity.checkBody);
    return { kind: 'system', systemId: identity.systemId, organizationId: identity.organizationId };
  };
}

/** Refuses (401) a system's request whose body does not match its signed Digest, or that was already received. */
export async function checkSignedBody(req: FastifyRequest): Promise<void> {
  await bodyChecks.get(req)?.(rawBodies.get(req));
}

/** JSON bodies are parsed as on every face (empty is none), and their raw bytes kept for the body checks. */
export function keepRawJsonBodies(app: FastifyInstance): void {
  parseJsonBodies(app, { keep: (req, raw) => rawBodies.set(req, raw), constructorPoisoning: 'ignore' });
}

/** The core's view of a JumpCloud caller: an API key's actor, or a system acting for itself. */
export function callerOf(req: FastifyRequest): Caller {
  const caller: JumpCloudCaller | null = req.jumpcloud;
  if (!caller) throw new Error('JumpCloud route reached without authentication');
  return caller.kind === 'api_key' ? caller.actor : caller;
}
