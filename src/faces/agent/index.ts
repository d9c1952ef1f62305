import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type {} from '@fastify/websocket';
import { checkSignedBody, systemSignatureResolver, type SignatureVerifierDeps } from '../../auth/system-signature.js';
import type { Core } from '../../core/index.js';
import { MusterError } from '../../core/errors.js';
import { isSystemPrincipal } from '../../core/systems/index.js';
import type { AgentHub } from '../../hub/agent-hub.js';
import { AgentFacts } from '../../protocol/messages.js';
import { authenticateWith } from '../face.js';
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

/**
 * /agent/v1/enroll (an enrollment key, the route's own credential) and
 * /agent/v1/connect (WebSocket; the system's HTTP Signature on the upgrade,
 * once-only, resolved before the upgrade so a bad one never gets a socket).
 */
export async function agentFace(app: FastifyInstance, deps: AgentFaceDeps): Promise<void> {
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err, nativeErrorBody));
  authenticateWith(
    app,
    [systemSignatureResolver(deps.signatures, { alwaysOnce: true })],
    'the agent signs its connection (HTTP Signature keyId="system/<id>")',
  );

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
      schema: { tags: ['agent'], summary: 'The agent WebSocket (HTTP Signature keyId="system/<id>" on the upgrade)' },
      // Every connect is signed afresh and once-only; checked before the upgrade, so a replayed one never gets a socket.
      preValidation: (req) => checkSignedBody(req, undefined),
    },
    (socket, req) => {
      const caller = req.caller;
      if (!caller || !isSystemPrincipal(caller)) return socket.close(4001, 'unauthenticated');
      deps.hub.accept(caller.systemId, socket, req.ip);
    },
  );
}
