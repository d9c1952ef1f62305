import Type from 'typebox';

/** Shared pieces of the native API's schemas (validation and OpenAPI at once). */
export const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'NOT_FOUND, INVALID_ARGUMENT, CONFLICT, FORBIDDEN, UNAUTHENTICATED, PAYLOAD_TOO_LARGE, RATE_LIMITED, UNAVAILABLE or INTERNAL' }),
    message: Type.String(),
    request_id: Type.String(),
  }),
});

export const Shell = Type.Union([Type.Literal('bash'), Type.Literal('sh'), Type.Literal('zsh'), Type.Literal('python3'), Type.Literal('powershell')]);
export const Role = Type.Union([Type.Literal('admin'), Type.Literal('operator'), Type.Literal('viewer')]);
export const Tags = Type.Array(Type.String({ maxLength: 128 }), { maxItems: 50 });
