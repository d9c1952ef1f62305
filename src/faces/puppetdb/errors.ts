import type { FastifyReply, FastifyRequest } from 'fastify';
import { classify, logUnexpected, STATUS } from '../http-errors.js';

/**
 * A PuppetDB answer that is not a success: JSON `{"error": …}` for 400/401/
 * 403/404/503, plain text where PuppetDB answers in text (406, 413, 415).
 */
export class PdbError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly text = false,
  ) {
    super(message);
  }
}

/** JSON with PuppetDB's content type. */
export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.status(status).header('content-type', 'application/json;charset=utf-8').send(JSON.stringify(body));
}

/** The one error renderer of the PuppetDB face. */
export function sendPdbError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof PdbError) {
    if (err.text) return reply.status(err.status).header('content-type', 'text/plain;charset=utf-8').send(err.message);
    return sendJson(reply, err.status, { error: err.message });
  }
  const known = classify(err);
  if (!known) {
    logUnexpected(request, err);
    return sendJson(reply, 500, { error: `internal error (request id ${request.id})` });
  }
  if (known.code === 'PAYLOAD_TOO_LARGE')
    return reply.status(413).header('content-type', 'text/plain;charset=utf-8').send('Command rejected due to size exceeding max-command-size');
  return sendJson(reply, STATUS[known.code], { error: known.message });
}
