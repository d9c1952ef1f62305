import Type, { type Static, type TSchema } from 'typebox';
import { SHELLS } from '../../protocol/messages.js';

/**
 * Pieces every part of the native API's wire vocabulary shares. The list of
 * shells is the agent protocol's: a script the API accepts is one an agent
 * can run.
 */
export { SHELLS };

/**
 * One of `values`, as a union of constants (the schema request validation has
 * always used, so its messages stay the same), typed as the union of the
 * values: TypeBox cannot infer that from a union built from a list.
 */
export function OneOf<const T extends readonly string[]>(values: T) {
  return Type.Unsafe<T[number]>(Type.Union(values.map((v) => Type.Literal(v))));
}

/** A request's `shell`: one of SHELLS. */
export const Shell = OneOf(SHELLS);
export type Shell = Static<typeof Shell>;

/** The roles an API key can have. */
export const ROLES = ['admin', 'operator', 'viewer'] as const;

/** A request's `role`: one of ROLES. */
export const Role = OneOf(ROLES);
export type Role = Static<typeof Role>;

export const Tags = Type.Array(Type.String({ maxLength: 128 }), { maxItems: 50 });

/** `{id}` in a path: a system, key, job or run id. */
export const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** `X` or null. */
export function Nullable<T extends TSchema>(type: T, options: { description?: string } = {}) {
  return Type.Union([type, Type.Null()], options);
}

/** An instant as the API writes it: ISO-8601 text. */
export const Instant = Type.String({ description: 'ISO-8601 instant' });

/** `{"items": [...]}`, the shape of every listing. */
export function Items<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item) });
}

/** A listing of ids. */
export const IdList = Items(Type.String());
export type IdList = Static<typeof IdList>;

/** The native error body, on every 4xx and 5xx answer. */
export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({
      description: 'NOT_FOUND, INVALID_ARGUMENT, CONFLICT, FORBIDDEN, UNAUTHENTICATED, PAYLOAD_TOO_LARGE, RATE_LIMITED, UNAVAILABLE or INTERNAL',
    }),
    message: Type.String(),
    request_id: Type.String(),
  }),
});
export type ErrorBody = Static<typeof ErrorBody>;

/** An answer without a body (204): `null` to JSON Schema and OpenAPI, nothing to send to TypeScript. */
export const NoContent = Type.Unsafe<undefined>(Type.Null({ description: 'No content' }));
