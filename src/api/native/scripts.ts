import Type, { type Static } from 'typebox';
import { Instant, Items, Nullable, Shell, SHELLS } from './common.js';
import { LaunchEnv, RunEnv, RunState } from './jobs.js';

/** How a saved command starts: by hand (or API), by a named trigger, on a cron schedule, or once at an instant. */
export const LAUNCH_TYPES = ['manual', 'trigger', 'repeated', 'one-time'] as const;

const ScriptTargetsBody = Type.Object(
  {
    system_ids: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 10_000 })),
    group_ids: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 10_000 })),
    selector: Type.Optional(Type.Union([Type.String({ maxLength: 4096, description: 'e.g. tag:web and not hostname:canary' }), Type.Null()])),
  },
  { additionalProperties: false, description: 'Where the script runs when a launch names no targets' },
);

/** No `default`s here: on PATCH a missing field means "keep", and core applies the defaults on create. */
const scriptFields = {
  name: Type.String({ minLength: 1, maxLength: 100, description: 'Unique within the organization' }),
  content: Type.String({ minLength: 1, description: 'The script, at most the server’s script size limit (1 MiB by default)' }),
  shell: Shell,
  run_as: Type.Union([Type.String({ maxLength: 32 }), Type.Null()], { description: 'A local user name, or null for the agent’s user' }),
  timeout_s: Type.Integer({ minimum: 1, maximum: 86_400, description: 'Default 120' }),
  ttl_s: Type.Integer({ minimum: 1, maximum: 604_800, description: 'How long a run waits for an offline system; default 3600' }),
  default_targets: ScriptTargetsBody,
};

/** POST /v1/scripts. */
export const CreateScriptBody = Type.Object(
  {
    name: scriptFields.name,
    content: scriptFields.content,
    shell: Type.Optional(scriptFields.shell),
    run_as: Type.Optional(scriptFields.run_as),
    timeout_s: Type.Optional(scriptFields.timeout_s),
    ttl_s: Type.Optional(scriptFields.ttl_s),
    default_targets: Type.Optional(scriptFields.default_targets),
  },
  { additionalProperties: false },
);
export type CreateScriptBody = Static<typeof CreateScriptBody>;

/** PATCH /v1/scripts/{id}: fields left out keep their values. */
export const ScriptPatch = Type.Partial(Type.Object(scriptFields), { additionalProperties: false });
export type ScriptPatch = Static<typeof ScriptPatch>;

/** Scripts and commands are addressed by id or by name, and names may be up to 100 characters. */
export const IdOrNameParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const ScriptTargets = Type.Object({ system_ids: Type.Array(Type.String()), group_ids: Type.Array(Type.String()), selector: Nullable(Type.String()) });

export const Script = Type.Object({
  id: Type.String(),
  name: Type.String(),
  content: Type.String(),
  shell: Type.String({ description: `One of ${SHELLS.join(', ')}` }),
  run_as: Nullable(Type.String()),
  timeout_s: Type.Integer(),
  ttl_s: Type.Integer(),
  default_targets: ScriptTargets,
  created_at: Instant,
  updated_at: Instant,
  created_by: Type.String(),
});
export type Script = Static<typeof Script>;
export const ScriptList = Items(Script);
export type ScriptList = Static<typeof ScriptList>;

const CommandTargetsBody = Type.Object(
  {
    system_ids: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 10_000 })),
    group_ids: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 10_000 })),
    selector: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()])),
  },
  { additionalProperties: false, description: 'The systems the command is bound to' },
);

/** No `default`s: on PATCH a missing field means "keep". Core checks the rules between fields. */
const commandFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  content: Type.String({ minLength: 1 }),
  shell: Shell,
  run_as: Type.Union([Type.String({ maxLength: 32 }), Type.Null()]),
  timeout_s: Type.Integer({ minimum: 1, maximum: 86_400 }),
  ttl_s: Type.Integer({ minimum: 1, maximum: 604_800 }),
  default_targets: CommandTargetsBody,
  trigger: Type.Union([Type.String({ maxLength: 64, description: 'Trigger calls with this name start the command' }), Type.Null()]),
  launch_type: Type.String({ description: 'manual, trigger, repeated or one-time' }),
  schedule: Type.Union([Type.String({ maxLength: 100, description: 'Cron, 5 fields or 6 with seconds first' }), Type.Null()]),
  timezone: Type.Union([Type.String({ maxLength: 64, description: 'IANA time zone of the schedule; default UTC' }), Type.Null()]),
  run_at: Type.Union([Type.String({ maxLength: 40, description: 'ISO-8601 instant of a one-time launch' }), Type.Null()]),
  run_on_enroll: Type.Boolean({ description: 'Launch on each newly enrolled system the targets cover' }),
  platform: Type.Union([Type.String(), Type.Null()]),
};
const f = commandFields;

/** POST /v1/commands. */
export const CreateCommandBody = Type.Object(
  {
    name: f.name,
    content: f.content,
    shell: Type.Optional(f.shell),
    run_as: Type.Optional(f.run_as),
    timeout_s: Type.Optional(f.timeout_s),
    ttl_s: Type.Optional(f.ttl_s),
    default_targets: Type.Optional(f.default_targets),
    trigger: Type.Optional(f.trigger),
    launch_type: Type.Optional(f.launch_type),
    schedule: Type.Optional(f.schedule),
    timezone: Type.Optional(f.timezone),
    run_at: Type.Optional(f.run_at),
    run_on_enroll: Type.Optional(f.run_on_enroll),
    platform: Type.Optional(f.platform),
  },
  { additionalProperties: false },
);
export type CreateCommandBody = Static<typeof CreateCommandBody>;

/** PATCH /v1/commands/{id}: fields left out keep their values. */
export const CommandPatch = Type.Partial(Type.Object(commandFields), { additionalProperties: false });
export type CommandPatch = Static<typeof CommandPatch>;

/** POST /v1/commands/{id}/run: on the command's targets, or the systems given. */
export const RunCommandBody = Type.Object(
  {
    system_ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 10_000 })),
    env: Type.Optional(LaunchEnv),
    run_env: Type.Optional(RunEnv),
  },
  { additionalProperties: false },
);
export type RunCommandBody = Static<typeof RunCommandBody>;

export const CommandResultsQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })), skip: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })) },
  { additionalProperties: false },
);

/** A command: a script with its trigger, schedule and run-on-enroll. */
export const Command = Type.Object({
  ...Script.properties,
  trigger: Nullable(Type.String()),
  launch_type: Type.Enum(LAUNCH_TYPES),
  schedule: Nullable(Type.String()),
  timezone: Nullable(Type.String()),
  run_at: Nullable(Instant),
  run_on_enroll: Type.Boolean(),
  platform: Nullable(Type.String()),
  next_fire_at: Nullable(Instant, { description: 'When the scheduler fires it next; null when nothing is scheduled' }),
});
export type Command = Static<typeof Command>;
export const CommandList = Items(Command);
export type CommandList = Static<typeof CommandList>;

/** One ended run of a command's job. */
export const CommandResult = Type.Object({
  run_id: Type.String(),
  job_id: Type.String(),
  command_id: Type.String(),
  command_name: Type.String({ description: 'Empty when the command was deleted' }),
  system_id: Type.String(),
  hostname: Type.String(),
  state: RunState,
  exit_code: Nullable(Type.Integer()),
  reason: Nullable(Type.String()),
  stdout: Type.String(),
  stderr: Type.String(),
  created_at: Instant,
  finished_at: Nullable(Instant),
});
export type CommandResult = Static<typeof CommandResult>;

/** GET /v1/commands/{id}/results: a page, newest first, and how many there are in all. */
export const CommandResults = Type.Object({ total: Type.Integer(), items: Type.Array(CommandResult) });
export type CommandResults = Static<typeof CommandResults>;

/** A device's status in a script job, as the SimpleMDM-compatible API names it (docs/simplemdm.md). */
export const DEVICE_STATUSES = ['pending', 'sent', 'running', 'completed', 'failed', 'cancelled'] as const;

/** GET /v1/script-jobs: newest first; pass `next_cursor` back as `before` for older ones. */
export const ScriptJobsQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: '1–100; 50 by default' })),
    before: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: "The previous page's next_cursor: the integer id to list before" })),
  },
  { additionalProperties: false },
);

/** A job of a saved script as the SimpleMDM-compatible API shows it (`GET /api/v1/script_jobs`). */
export const ScriptJobSummary = Type.Object({
  job_id: Type.String(),
  number: Type.Integer({ description: 'Its integer id in the SimpleMDM-compatible API' }),
  script_name: Type.String(),
  job_name: Type.String(),
  status: Type.Enum(['pending', 'completed', 'failed'], { description: 'pending until every device ended; then completed when all succeeded, else failed' }),
  total: Type.Integer(),
  device_counts: Type.Record(Type.Enum(DEVICE_STATUSES), Type.Integer(), { description: 'How many devices are in each status' }),
  created_by: Type.String(),
  created_at: Instant,
  finished_at: Nullable(Instant),
});
export type ScriptJobSummary = Static<typeof ScriptJobSummary>;
export const ScriptJobSummaryList = Type.Object({ items: Type.Array(ScriptJobSummary), next_cursor: Nullable(Type.String()) });
export type ScriptJobSummaryList = Static<typeof ScriptJobSummaryList>;
