import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * The JSON body parser every face shares. An empty body with a JSON content
 * type is no body, on every method: PowerShell's `Invoke-RestMethod` and
 * JumpCloud's `Remove-JC…` cmdlets send `DELETE` with
 * `Content-Type: application/json` and nothing after it. A route that needs a
 * body still says so (see `classify`), after authentication and authorization
 * have answered. Anything else is parsed as Fastify does (prototype poisoning
 * refused), and `keep`, when given, receives the raw bytes (for a signed
 * Digest).
 */
export function parseJsonBodies(
  app: FastifyInstance,
  options: { keep?: (req: FastifyRequest, raw: Buffer) => void; constructorPoisoning?: 'error' | 'ignore' } = {},
): void {
  const parseJson = app.getDefaultJsonParser('error', options.constructorPoisoning ?? 'error');
  const keep = options.keep;
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const raw = body as Buffer;
    keep?.(req, raw);
    if (raw.length === 0) {
      done(null, undefined);
      return;
    }
    parseJson(req, raw.toString('utf8'), done);
  });
}
