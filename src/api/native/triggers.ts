import Type, { type Static } from 'typebox';
import { Instant, Items, Nullable } from './common.js';

export const TriggerParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });

/** POST /v1/triggers. */
export const CreateTriggerBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    secret: Type.Optional(Type.Boolean({ description: 'Create an HMAC secret so callers can fire the trigger without an API key' })),
  },
  { additionalProperties: false },
);
export type CreateTriggerBody = Static<typeof CreateTriggerBody>;

export const Trigger = Type.Object({ id: Type.String(), name: Type.String(), has_secret: Type.Boolean(), created_at: Instant, created_by: Type.String() });
export type Trigger = Static<typeof Trigger>;
export const TriggerList = Items(Trigger);
export type TriggerList = Static<typeof TriggerList>;

/** A new trigger and its secret (null without one), shown only here. */
export const TriggerCreated = Type.Object({ trigger: Trigger, secret: Nullable(Type.String()) });
export type TriggerCreated = Static<typeof TriggerCreated>;

/** A trigger's new secret, shown only here. */
export const SecretRotated = Type.Object({ secret: Type.String() });
export type SecretRotated = Static<typeof SecretRotated>;

/** What firing a trigger started, what it could not, and whether this repeats an earlier call with the same Idempotency-Key. */
export const Fired = Type.Object({
  triggered: Type.Array(Type.String(), { description: 'The ids of the commands that launched' }),
  jobs: Type.Array(Type.Object({ command_id: Type.String(), job_id: Type.String() })),
  skipped: Type.Array(Type.Object({ command_id: Type.String(), reason: Type.String() })),
  replayed: Type.Boolean(),
});
export type Fired = Static<typeof Fired>;
