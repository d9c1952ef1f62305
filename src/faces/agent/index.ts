import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type {} from '@fastify/websocket';
import { verifySystemRequest, type SignatureVerifierDeps, type SystemIdentity } from '../../auth/system-signature.js';
import type { Core } from '../../core/index.js';
import { MusterError } from '../../core/errors.js';
import type { AgentHub } from '../../hub/agent-hub.js';
import { AgentFacts } from '../../protocol/messages.js';
import { sendError } from '../http-errors.js';
import { nativeErrorBody } from '../native/index.js';

export interface AgentFaceDeps {
  core: Core;
  hub: AgentHub;
  signatures: SignatureVerifierDeps;
}

const EnrollBody = Type.Object(
  {
    public_key: Type.String({ maxLength: 16_384, description: 'SPKI PEM: RSA ≥ 2048 bits or Ed25519' }),
    facts: AgentFacts,
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 50 })),
  },
  { additionalProperties: false },
);

const identities = new WeakMap<FastifyRequest, SystemIdentity>();

/** /agent/v1/enroll (enrollment key) and /agent/v1/connect (WebSocket, HTTP Signature on the upgrade). */
export async function agentFace(app: FastifyInstance, deps: AgentFaceDeps): Promise<void> {
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err, nativeErrorBody));

  app.post(
    '/enroll',
    {
      config: { resolvers: ['enrollment_key'], anonymous: true },
      schema: { tags: ['agent'], summary: 'Register a machine (Authorization: Bearer <enrollment key>)', body: EnrollBody },
    },
    async (req, reply) => {
      const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!auth) throw new MusterError('UNAUTHENTICATED', 'an enrollment key is required (Authorization: Bearer <key>)');
      const body = req.body as { public_key: string; facts: AgentFacts; tags?: string[] };
      const system = await deps.core.systems.enroll(auth[1]!, body, req.ip);
      req.log.info({ system_id: system.id, hostname: system.hostname }, 'system enrolled');
      return reply.status(201).send({ system_id: system.id, organization_id: system.organizationId });
    },
  );

  app.get(
    '/connect',
    {
      websocket: true,
      config: { resolvers: ['system_signature'], anonymous: true },
      schema: { tags: ['agent'], summary: 'The agent WebSocket (HTTP Signature keyId="system/<id>" on the upgrade)' },
      // Refuse before the upgrade: a bad signature never gets a socket.
      preValidation: async (req) => {
        // Every connect is signed afresh, so a captured upgrade cannot be replayed.
        identities.set(req, await verifySystemRequest({ method: req.method, url: req.url, headers: req.headers }, deps.signatures, { alwaysOnce: true }));
      },
    },
    (socket, req) => {
      const identity = identities.get(req);
      if (!identity) {
        socket.close(4001, 'unauthenticated');
        return;
      }
      deps.hub.accept(identity.systemId, socket, req.ip);
    },
  );
}
