/**
 * The closed set of error codes. Core throws `MusterError` with one of these;
 * each face maps every code to its own wire shape and status (exhaustively).
 */
export const ERROR_CODES = [
  'NOT_FOUND',
  'INVALID_ARGUMENT',
  'CONFLICT',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** A failure the caller can act on. `field` names the offending input, when there is one. */
export class MusterError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MusterError';
    this.code = code;
    this.field = options.field;
  }
}

/** Shorthand for the most common error: input that fails a rule, naming the field. */
export function invalid(field: string, message: string): MusterError {
  return new MusterError('INVALID_ARGUMENT', `${field}: ${message}`, { field });
}

/** Shorthand for a missing (or invisible to this organization) resource. */
export function notFound(what: string, id: string): MusterError {
  return new MusterError('NOT_FOUND', `${what} ${id} not found`);
}

/** True when `err` is a MusterError with the given code (or any code when omitted). */
export function isMusterError(err: unknown, code?: ErrorCode): err is MusterError {
  return err instanceof MusterError && (code === undefined || err.code === code);
}
