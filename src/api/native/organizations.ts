import Type, { type Static } from 'typebox';
import { Instant, ROLES } from './common.js';

/** GET /v1/whoami. */
export const Whoami = Type.Object({
  organization_id: Type.String(),
  organization_name: Type.String(),
  organization_slug: Type.String(),
  key_id: Type.String(),
  role: Type.Enum(ROLES),
});
export type Whoami = Static<typeof Whoami>;

export const Organization = Type.Object({ id: Type.String(), slug: Type.String(), name: Type.String(), created_at: Instant });
export type Organization = Static<typeof Organization>;

/** POST /v1/organizations. */
export const CreateOrganizationBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), slug: Type.String({ minLength: 1, maxLength: 63 }) },
  { additionalProperties: false },
);
export type CreateOrganizationBody = Static<typeof CreateOrganizationBody>;

/** The new organization and its first admin key's secret (shown only here). */
export const OrganizationCreated = Type.Object({ organization: Organization, api_key: Type.String() });
export type OrganizationCreated = Static<typeof OrganizationCreated>;
