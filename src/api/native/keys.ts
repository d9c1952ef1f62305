import Type, { type Static } from 'typebox';
import { Instant, Items, Nullable, Role, ROLES, Tags } from './common.js';

export const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.Enum(ROLES),
  prefix: Type.String({ description: 'The first characters of the secret, to tell keys apart' }),
  created_at: Instant,
  last_used_at: Nullable(Instant),
  revoked_at: Nullable(Instant),
});
export type ApiKey = Static<typeof ApiKey>;
export const ApiKeyList = Items(ApiKey);
export type ApiKeyList = Static<typeof ApiKeyList>;

/** POST /v1/api-keys. */
export const CreateApiKeyBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: Role }, { additionalProperties: false });
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;

/** A new API key and its secret, shown only here. */
export const ApiKeyCreated = Type.Object({ key: ApiKey, secret: Type.String() });
export type ApiKeyCreated = Static<typeof ApiKeyCreated>;

export const EnrollmentKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  tags: Type.Array(Type.String(), { description: 'Tags enrolled systems get' }),
  group_ids: Type.Array(Type.String(), { description: 'Groups enrolled systems join' }),
  expires_at: Nullable(Instant),
  max_uses: Nullable(Type.Integer()),
  uses: Type.Integer(),
  prefix: Type.String(),
  created_at: Instant,
  revoked_at: Nullable(Instant),
});
export type EnrollmentKey = Static<typeof EnrollmentKey>;
export const EnrollmentKeyList = Items(EnrollmentKey);
export type EnrollmentKeyList = Static<typeof EnrollmentKeyList>;

/** POST /v1/enrollment-keys. */
export const CreateEnrollmentKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    tags: Type.Optional(Tags),
    groups: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50, description: 'group ids or names that enrolled systems join' }),
    ),
    expires_at: Type.Optional(Type.Union([Type.String({ format: 'date-time', maxLength: 40 }), Type.Null()])),
    max_uses: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type CreateEnrollmentKeyBody = Static<typeof CreateEnrollmentKeyBody>;

/** A new enrollment key and its secret, shown only here. */
export const EnrollmentKeyCreated = Type.Object({ key: EnrollmentKey, secret: Type.String() });
export type EnrollmentKeyCreated = Static<typeof EnrollmentKeyCreated>;
