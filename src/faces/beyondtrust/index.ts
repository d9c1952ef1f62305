import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONSOLE_SCRIPT_HEADER, encodeCommand, JUMP_ACTION, jumpRequest, TICKET_PARAM } from '../../api/beyondtrust/console-script.js';
import { API_KEY_REQUIRED, apiKeyResolver } from '../../auth/api-key.js';
import type { Core } from '../../core/index.js';
import { invalid } from '../../core/errors.js';
import { authenticateWith, type Face } from '../face.js';
import { sendError } from '../http-errors.js';
import { nativeErrorBody } from '../native/index.js';
import { actorOf } from '../native/context.js';

export interface BeyondtrustDeps {
  core: Core;
}

/** The BeyondTrust-compatible client scripting API, `/api/client_script`: console scripts that open sessions by criteria. */
export function beyondtrustFace(deps: BeyondtrustDeps): Face {
  return { name: 'beyondtrust', prefix: '/api/client_script', register: (scope) => registerBeyondtrust(scope, deps) };
}

/** One value per name: a repeated parameter is ambiguous, and refused. */
function flat(source: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((source ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'string') throw invalid(k, 'must be given once, as text');
    out[k] = v;
  }
  return out;
}

async function registerBeyondtrust(app: FastifyInstance, { core }: BeyondtrustDeps): Promise<void> {
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err, nativeErrorBody));
  // A script opens a shell: operators, whatever the method.
  authenticateWith(app, [apiKeyResolver(core.keys)], API_KEY_REQUIRED, { role: () => 'operator' });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const { type, operation, action, ...params } = { ...flat(req.query), ...flat(req.method === 'POST' ? req.body : undefined) };
    if (type !== 'rep' && type !== 'web_console')
      throw invalid('type', `must be rep (a console script for the muster CLI) or web_console (the web console); got ${JSON.stringify(type ?? '')}`);
    const expected = type === 'rep' ? 'generate' : 'execute';
    if (operation !== expected) throw invalid('operation', `must be ${expected} for type=${type}; got ${JSON.stringify(operation ?? '')}`);
    if (action !== JUMP_ACTION) throw invalid('action', `must be ${JUMP_ACTION}; got ${JSON.stringify(action ?? '')}`);
    if (TICKET_PARAM in params) throw invalid(TICKET_PARAM, 'is issued by the server, not sent to it');
    const request = jumpRequest(params);
    if (!request.ok) throw invalid(request.field, request.error.replace(`${request.field}: `, ''));
    const { criteria, custom, runAs } = request.value;
    const issued = await core.sessions.issueTicket(actorOf(req), { criteria, custom, run_as: runAs });
    if (type === 'web_console') return reply.redirect(`/console/sessions/new?${new URLSearchParams({ ...params, [TICKET_PARAM]: issued.ticket })}`, 303);
    const pairs: Array<[string, string]> = [
      ['action', JUMP_ACTION],
      ...Object.entries(params).filter(([k]) => k !== 'jump.method'),
      ['jump.method', 'shell'],
      [TICKET_PARAM, issued.ticket],
    ];
    const site = req.hostname.replace(/:\d+$/, '').replace(/[^A-Za-z0-9.-]/g, '_') || 'muster';
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-disposition', `attachment; filename="muster.brcs-${site}"`)
      .header('x-muster-ticket-expires', issued.expiresAt)
      .send(`${CONSOLE_SCRIPT_HEADER}\n${encodeCommand(pairs)}\n`);
  };
  const schema = {
    tags: ['beyondtrust'],
    summary:
      'A console script (BRCS1.0) that opens a session by criteria, with a single-use ticket bound to the key; type=web_console redirects to the console',
    hide: false,
  };
  app.get('', { schema }, handler);
  app.post('', { schema }, handler);
}
