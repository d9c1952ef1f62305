import Type, { type Static } from 'typebox';
import { Instant, Items, Nullable, Tags } from './common.js';

/** Criteria as BeyondTrust names them (`client.*`, `search_string`): partial, case-insensitive, ANDed. */
export const SessionCriteria = Type.Object(
  {
    hostname: Type.Optional(Type.String({ maxLength: 255 })),
    comments: Type.Optional(Type.String({ maxLength: 255 })),
    tag: Type.Optional(Type.String({ maxLength: 255 })),
    private_ip: Type.Optional(Type.String({ maxLength: 255 })),
    public_ip: Type.Optional(Type.String({ maxLength: 255 })),
    search: Type.Optional(Type.String({ maxLength: 255, description: 'matches any of the fields, or the name' })),
  },
  { additionalProperties: false },
);
export type SessionCriteria = Static<typeof SessionCriteria>;

export const OpenSessionBody = Type.Object(
  {
    ticket: Type.Optional(
      Type.String({ maxLength: 128, description: "a console script's single-use ticket: it carries the criteria, custom fields and user" }),
    ),
    system_id: Type.Optional(Type.String({ maxLength: 64, description: 'the system; with criteria (or a ticket), the one chosen among their candidates' })),
    selector: Type.Optional(Type.String({ maxLength: 4096 })),
    criteria: Type.Optional(SessionCriteria),
    run_as: Type.Optional(Nullable(Type.String({ maxLength: 64 }), { description: 'the system user the shell runs as' })),
    cols: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    rows: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    custom: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String(), { description: "custom fields, by the organization's field codes" })),
    idle_timeout_s: Type.Optional(Type.Integer({ minimum: 1 })),
    max_duration_s: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type OpenSessionBody = Static<typeof OpenSessionBody>;

export const Session = Type.Object({
  id: Type.String(),
  system_id: Type.String(),
  opened_by: Type.String(),
  run_as: Nullable(Type.String()),
  criteria: Nullable(SessionCriteria),
  selector: Nullable(Type.String()),
  custom: Type.Record(Type.String(), Type.String()),
  state: Type.String({ description: 'opening, active or ended' }),
  end_reason: Nullable(
    Type.String({ description: 'exited, failed_to_start, ended_by_user, ended_by_admin, idle_timeout, max_duration, agent_disconnected, server_stopped' }),
  ),
  end_message: Nullable(Type.String()),
  ended_by: Nullable(Type.String()),
  exit_code: Nullable(Type.Integer()),
  signal: Nullable(Type.String()),
  pty: Nullable(Type.Boolean()),
  notice: Nullable(Type.String()),
  record_input: Type.Boolean(),
  idle_timeout_s: Type.Integer(),
  max_duration_s: Type.Integer(),
  created_at: Instant,
  started_at: Nullable(Instant),
  ended_at: Nullable(Instant),
});
export type Session = Static<typeof Session>;
export const SessionList = Items(Session);
export type SessionList = Static<typeof SessionList>;

export const SessionListQuery = Type.Object({
  state: Type.Optional(Type.Union([Type.Literal('opening'), Type.Literal('active'), Type.Literal('ended')])),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
});

/** One system the criteria matched, as a chooser shows it. */
export const SessionCandidate = Type.Object({
  id: Type.String(),
  name: Type.String(),
  hostname: Type.String(),
  tags: Tags,
  comments: Type.String(),
  private_ips: Type.Array(Type.String()),
  public_ip: Nullable(Type.String()),
  connected: Type.Boolean(),
});
export type SessionCandidate = Static<typeof SessionCandidate>;

/**
 * 409: the request matched several systems (`candidates`: choose one and open
 * again with its `system_id` and the same criteria or ticket), or its ticket
 * was already used (no candidates).
 */
export const AmbiguousSession = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), request_id: Type.String(), candidates: Type.Optional(Type.Array(SessionCandidate)) }),
});
export type AmbiguousSession = Static<typeof AmbiguousSession>;

export const SessionSettings = Type.Object(
  {
    record_input: Type.Boolean({ description: 'record keystrokes too, not only output' }),
    custom_fields: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100, description: 'the field codes session.custom.<code> may use' }),
  },
  { additionalProperties: false },
);
export type SessionSettings = Static<typeof SessionSettings>;

/** What the attach WebSocket's text frames carry (binary frames are terminal bytes, both ways). */
export type AttachControl =
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'notice'; message: string }
  | { type: 'exit'; reason: string; message: string; exit_code: number | null; signal: string | null };
