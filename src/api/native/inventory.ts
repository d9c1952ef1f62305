import Type, { type Static } from 'typebox';
import { Instant, Items, Nullable, Tags } from './common.js';

export const System = Type.Object({
  id: Type.String(),
  hostname: Type.String(),
  display_name: Type.String(),
  description: Type.String(),
  os: Type.String(),
  os_release: Type.String(),
  arch: Type.String(),
  kernel: Type.String(),
  agent_version: Type.String(),
  ip_addresses: Type.Array(Type.String()),
  public_ip: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  attributes: Type.Record(Type.String(), Type.String()),
  facts: Type.Record(Type.String(), Type.Unknown(), { description: 'What the agent last reported' }),
  certname: Nullable(Type.String(), { description: 'The PuppetDB certname its facts arrive under; null means its hostname' }),
  connected: Type.Boolean(),
  active: Type.Boolean({ description: 'The same as connected' }),
  first_contact: Instant,
  last_contact: Nullable(Instant),
  created_at: Instant,
});
export type System = Static<typeof System>;

/** GET /v1/systems: one page holds them all today, so `next_cursor` is null. */
/** GET /v1/systems: with `limit`, one page and the total that match; without, every match (`next_cursor` null). */
export const SystemList = Type.Object({
  items: Type.Array(System),
  next_cursor: Nullable(Type.String(), { description: 'The cursor of the next page; null after the last' }),
  total: Type.Integer({ description: 'How many systems match in all' }),
});
export type SystemList = Static<typeof SystemList>;

export const SystemListQuery = Type.Object(
  {
    select: Type.Optional(Type.String({ maxLength: 4096 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'A page of at most this many (1–1000); every match without it' })),
    cursor: Type.Optional(Type.String({ maxLength: 20, description: "The previous page's next_cursor" })),
    sort: Type.Optional(
      Type.String({ maxLength: 20, description: 'hostname (the default), display_name, connected, last_contact, os or created_at; - first for descending' }),
    ),
  },
  { additionalProperties: false },
);

/** What may change on a system; anything else (e.g. `hostname`, `id`) is a 400 naming the field. */
export const SystemPatch = Type.Object(
  {
    display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    tags: Type.Optional(Tags),
    attributes: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 1024 }))),
  },
  { additionalProperties: true },
);
export type SystemPatch = Static<typeof SystemPatch>;

export const Group = Type.Object({ id: Type.String(), name: Type.String(), description: Type.String(), created_at: Instant });
export type Group = Static<typeof Group>;
export const GroupList = Items(Group);
export type GroupList = Static<typeof GroupList>;

/** Groups are addressed by id or name. */
export const GroupParams = Type.Object({ id: Type.String({ maxLength: 100, description: 'group id or name' }) });
export const CreateGroupBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), description: Type.Optional(Type.String({ maxLength: 4096 })) },
  { additionalProperties: false },
);
export type CreateGroupBody = Static<typeof CreateGroupBody>;
export const GroupPatch = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), description: Type.Optional(Type.String({ maxLength: 4096 })) },
  { additionalProperties: false },
);
export type GroupPatch = Static<typeof GroupPatch>;

/** `{"system_id": …}`: a system to add to a group, or to bind a user to. */
export const SystemRef = Type.Object({ system_id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
export type SystemRef = Static<typeof SystemRef>;

export const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  email: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  created_at: Instant,
});
export type User = Static<typeof User>;
export const UserList = Items(User);
export type UserList = Static<typeof UserList>;

const userFields = {
  email: Type.Optional(Type.String({ maxLength: 254 })),
  first_name: Type.Optional(Type.String({ maxLength: 100 })),
  last_name: Type.Optional(Type.String({ maxLength: 100 })),
};
export const CreateUserBody = Type.Object({ username: Type.String({ minLength: 1, maxLength: 32 }), ...userFields }, { additionalProperties: false });
export type CreateUserBody = Static<typeof CreateUserBody>;
export const UserPatch = Type.Object({ username: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })), ...userFields }, { additionalProperties: false });
export type UserPatch = Static<typeof UserPatch>;
