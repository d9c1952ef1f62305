import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkBodyDigest, verifySystemRequest, type SignatureVerifierDeps } from '../../auth/system-signature.js';
import type { Caller } from '../../core/systems/index.js';
import type { JumpCloudCaller } from './context.js';
import type { SystemCaller } from './index.js';

/** The signed Digest of a request, checked once its body has been read. */
const signedDigests = new WeakMap<FastifyRequest, string>();
/** Raw bodies, kept for the Digest check (JSON APIs: at most the body limit). */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

/**
 * The System Context authenticator: verifies `Authorization: Signature
 * keyId="system/<id>"…` against the system's enrolled key (date skew, replay of
 * mutating requests, signature). A signed `digest` is checked against the body
 * later, by `checkSignedBody`, because the body is not read yet at `onRequest`.
 */
export function systemCaller(deps: SignatureVerifierDeps): SystemCaller {
  return async (req) => {
    const identity = await verifySystemRequest({ method: req.method, url: req.url, headers: req.headers }, deps, { deferDigest: true });
    if (identity.signedDigest !== undefined) signedDigests.set(req, identity.signedDigest);
    return { kind: 'system', systemId: identity.systemId, organizationId: identity.organizationId };
  };
}

/** Refuses (401) a system's request whose body does not match its signed Digest. */
export function checkSignedBody(req: FastifyRequest): void {
  const digest = signedDigests.get(req);
  if (digest !== undefined) checkBodyDigest(digest, rawBodies.get(req));
}

/** JSON bodies are parsed as usual, and their raw bytes kept for the Digest check. */
export function keepRawJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    rawBodies.set(req, body as Buffer);
    parseJson(req, (body as Buffer).toString('utf8'), done);
  });
}

/** The core's view of a JumpCloud caller: an API key's actor, or a system acting for itself. */
export function callerOf(req: FastifyRequest): Caller {
  const caller: JumpCloudCaller | null = req.jumpcloud;
  if (!caller) throw new Error('JumpCloud route reached without authentication');
  return caller.kind === 'api_key' ? caller.actor : caller;
}
