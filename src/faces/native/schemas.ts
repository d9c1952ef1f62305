import type { TSchema } from 'typebox';
import { ErrorBody } from '../../api/native/index.js';

/**
 * A route's `response` schemas: what it answers on success, and the native
 * error body on every 4xx and 5xx (the face's one error handler writes
 * exactly that shape). Fastify serializes with these, dropping any field a
 * schema does not list, so each success schema describes all the route sends.
 */
export function answers<R extends Record<number, TSchema>>(ok: R): R & { '4xx': typeof ErrorBody; '5xx': typeof ErrorBody } {
  return { ...ok, '4xx': ErrorBody, '5xx': ErrorBody };
}
