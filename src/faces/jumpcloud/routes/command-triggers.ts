import Type from 'typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TRIGGER_BODY_MAX_BYTES } from '../../../core/commands/index.js';
import { MusterError } from '../../../core/errors.js';
import { isSystemPrincipal } from '../../../core/systems/index.js';
import type {} from '../../face.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import type { JumpCloudDeps } from '../context.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * `POST /api/command/trigger/{name}`: starts every command with that trigger.
 * Authenticated by `x-api-key`, or — muster's extension — by a signature
 * with the trigger's own secret (`X-Muster-Signature`), which is why the
 * route is anonymous to the face's hook and reads its body raw (the signature
 * covers the exact bytes, whatever the Content-Type: curl's `-d` sends JSON
 * as a form).
 */
export function commandTriggerRoutes(app: FastifyInstance, { core }: JumpCloudDeps): void {
  void app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: TRIGGER_BODY_MAX_BYTES }, (_req, body, done) => done(null, body));
    scope.post('/command/trigger/:name', { schema: { params: NameParams }, config: { anonymous: true } }, async (req, reply) => {
      const caller = req.caller;
      if (caller && isSystemPrincipal(caller)) throw new MusterError('UNAUTHENTICATED', 'a system cannot fire triggers; use an API key or the trigger secret');
      const outcome = await core.triggers.fire({
        name: req.params.name,
        body: typeof req.body === 'string' ? req.body : undefined,
        actor: caller ?? undefined,
        signature: header(req, 'x-muster-signature'),
        organizationId: header(req, 'x-org-id'),
        idempotencyKey: header(req, 'idempotency-key'),
      });
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      return {
        triggered: outcome.triggered,
        jobs: outcome.jobs.map((j) => ({ commandId: j.commandId, jobId: j.jobId })),
        ...(outcome.skipped.length ? { skipped: outcome.skipped.map((s) => ({ commandId: s.commandId, reason: s.reason })) } : {}),
      };
    });
  });
}
