import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { MusterError, type ErrorCode } from '../core/errors.js';

/**
 * Turns anything thrown in a route into a MusterError, or undefined for an
 * unexpected failure (which every face answers as a 500 with a request id).
 * Fastify's own errors (validation, body size, bad JSON) become the codes a
 * caller can act on; shared by every face, each of which then renders the
 * result in its own wire shape. With the request, a route that needs a body
 * and got none says so instead of naming a type.
 */
export function classify(err: unknown, request?: FastifyRequest): MusterError | undefined {
  if (err instanceof MusterError) return err;
  const e = err as FastifyError & {
    validation?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }>;
    validationContext?: string;
  };
  // No body at all (none sent, or an empty one: see json-body.ts) where the route needs one.
  if (e?.validation && e.validationContext === 'body' && request !== undefined && request.body === undefined) {
    return new MusterError('INVALID_ARGUMENT', 'a JSON body is required (Content-Type: application/json)', { field: 'body' });
  }
  if (e?.validation && e.validation.length > 0) {
    const first = e.validation[0]!;
    const missing = first.params?.missingProperty as string | undefined;
    const extra = first.params?.additionalProperty as string | undefined;
    const path = [first.instancePath.slice(1).replaceAll('/', '.'), missing ?? extra].filter(Boolean).join('.');
    const field = path || (e.validationContext ?? 'body');
    const message = missing ? 'is required' : extra ? 'is not a known field' : (first.message ?? 'is invalid');
    return new MusterError('INVALID_ARGUMENT', `${field}: ${message}`, { field });
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new MusterError('PAYLOAD_TOO_LARGE', 'the request body is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new MusterError('INVALID_ARGUMENT', `unsupported Content-Type ${String(e.message).split(': ').pop()}`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MusterError('INVALID_ARGUMENT', 'the JSON body is empty', { field: 'body' });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new MusterError('INVALID_ARGUMENT', 'the body is not valid JSON', { field: 'body' });
    case 'FST_ERR_RATE_LIMITED':
      return new MusterError('RATE_LIMITED', 'too many requests');
  }
  if (e instanceof SyntaxError || (e?.statusCode === 400 && /JSON/i.test(e.message))) {
    return new MusterError('INVALID_ARGUMENT', 'the body is not valid JSON', { field: 'body' });
  }
  if (e?.statusCode === 413) return new MusterError('PAYLOAD_TOO_LARGE', 'the request body is larger than the server accepts');
  if (e?.statusCode === 415) return new MusterError('INVALID_ARGUMENT', 'unsupported Content-Type');
  if (e?.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) return new MusterError('INVALID_ARGUMENT', e.message);
  return undefined;
}

/** The one code → HTTP status table. Exhaustive: a new code fails to compile until mapped. */
export const STATUS: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  INVALID_ARGUMENT: 400,
  CONFLICT: 409,
  FORBIDDEN: 403,
  UNAUTHENTICATED: 401,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

/** Logs an unexpected error with its request id; the caller only ever sees the id. */
export function logUnexpected(request: FastifyRequest, err: unknown): void {
  request.log.error({ err }, 'unexpected error');
}

/** Renders an error with a face's body shape; logs unexpected ones. */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  err: unknown,
  body: (code: ErrorCode | 'INTERNAL', message: string, requestId: string) => unknown,
): FastifyReply {
  const known = classify(err, request);
  if (!known) {
    logUnexpected(request, err);
    return reply.status(500).send(body('INTERNAL', `internal error (request id ${request.id})`, request.id));
  }
  return reply.status(STATUS[known.code]).send(body(known.code, known.message, request.id));
}
