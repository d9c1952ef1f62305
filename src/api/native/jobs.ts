import Type, { type Static } from 'typebox';
import { Instant, Items, Nullable, Shell, SHELLS } from './common.js';

/** A run's states: `pending → delivered → running →` one of the ended ones. */
export const RUN_STATES = ['pending', 'delivered', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'undeliverable', 'lost'] as const;
export const RunState = Type.Enum(RUN_STATES);
export type RunState = Static<typeof RunState>;

export const JOB_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export const JOB_SOURCES = ['api', 'cli', 'trigger', 'schedule', 'enroll'] as const;

/** How many of a job's runs are in each state (every state, zeros included). */
export const RunCounts = Type.Record(Type.Enum(RUN_STATES), Type.Integer());
export type RunCounts = Static<typeof RunCounts>;

export const Job = Type.Object({
  id: Type.String(),
  status: Type.Enum(JOB_STATUSES),
  done: Type.Boolean({ description: 'Every run has ended' }),
  total: Type.Integer(),
  counts: RunCounts,
  shell: Type.String({ description: `One of ${SHELLS.join(', ')}` }),
  timeout_s: Type.Integer(),
  ttl_s: Type.Integer(),
  run_as: Nullable(Type.String()),
  selector: Nullable(Type.String()),
  max_concurrency: Nullable(Type.Integer(), { description: 'Resolved from a count or a percentage at launch; null: none' }),
  max_errors: Nullable(Type.Integer()),
  stopped_reason: Nullable(Type.String(), { description: 'Why delivery stopped early (cancel, max_errors)' }),
  retry_of: Nullable(Type.String()),
  script_id: Nullable(Type.String()),
  source: Type.Enum(JOB_SOURCES),
  env: Type.Record(Type.String(), Type.String()),
  content: Type.String(),
  created_by: Type.String(),
  created_at: Instant,
  finished_at: Nullable(Instant),
});
export type Job = Static<typeof Job>;

/** GET /v1/jobs: newest first; `next_cursor` is the `before` of the next page. */
export const JobList = Type.Object({ items: Type.Array(Job), next_cursor: Nullable(Type.String()) });
export type JobList = Static<typeof JobList>;

/** GET /v1/systems/{id}/runs: the newest first. */
export const SystemRunsQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: '1–200; 50 by default' })) },
  { additionalProperties: false },
);

export const JobListQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })), before: Type.Optional(Type.String({ maxLength: 40 })) },
  { additionalProperties: false },
);

export const Run = Type.Object({
  id: Type.String(),
  job_id: Type.String(),
  system_id: Type.String(),
  hostname: Type.String(),
  state: RunState,
  exit_code: Nullable(Type.Integer()),
  signal: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  stdout_truncated: Type.Boolean(),
  stderr_truncated: Type.Boolean(),
  created_at: Instant,
  delivered_at: Nullable(Instant),
  started_at: Nullable(Instant),
  finished_at: Nullable(Instant),
});
export type Run = Static<typeof Run>;
export const RunList = Items(Run);
export type RunList = Static<typeof RunList>;

/** GET /v1/jobs/{id}/runs: by hostname; with `limit`, one page, `next_cursor` (null after the last) passed back as `cursor`. */
export const JobRunsQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,4}$',
        description: '1–1000; without it (and without cursor), every run in one answer; a cursor alone pages 200 at a time',
      }),
    ),
    cursor: Type.Optional(Type.String({ maxLength: 1000, description: "The previous page's next_cursor" })),
    state: Type.Optional(RunState),
  },
  { additionalProperties: false },
);
export type JobRunsQuery = Static<typeof JobRunsQuery>;

export const JobRunList = Type.Object({
  items: Type.Array(Run),
  total: Type.Integer({ description: 'How many runs match (the state filter), on every page' }),
  next_cursor: Nullable(Type.String(), { description: 'The next page, or null after the last (and without limit)' }),
});
export type JobRunList = Static<typeof JobRunList>;

/** A run with its captured output (each capped; the flags say when only the tail was kept). */
export const RunWithOutput = Type.Object({ ...Run.properties, stdout: Type.String(), stderr: Type.String() });
export type RunWithOutput = Static<typeof RunWithOutput>;

/** A job just launched, with one run per system. */
export const Launched = Type.Object({ job: Job, runs: Type.Array(Run) });
export type Launched = Static<typeof Launched>;

const CountOrPercent = (minimum: number, description: string) =>
  Type.Union([Type.Integer({ minimum }), Type.String({ pattern: '^\\d+(\\.\\d+)?%$' })], { description });

/** A launch's variables. */
export const LaunchEnv = Type.Record(Type.String(), Type.String(), {
  description:
    'Environment variables for the script; names must match ^[A-Za-z_][A-Za-z0-9_]*$, and names that change how it runs (BASH_ENV, PATH, LD_*, PYTHON*, …: src/lib/env-policy.ts) are refused',
});

/** A launch's per-system variables. */
export const RunEnv = Type.Record(Type.String(), Type.Record(Type.String(), Type.String()), {
  description:
    "Per-system variables: each key is a system id among the job's targets, each value that system's own variables, laid over env for its run (its own win on a clash) and checked like env",
});

/** POST /v1/jobs. */
export const LaunchBody = Type.Object(
  {
    content: Type.Optional(Type.String({ minLength: 1, description: 'The script, at most 1 MiB; or name a saved script' })),
    script: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: 'A saved script, by id or name: its content is frozen at launch, and its settings apply unless given here',
      }),
    ),
    shell: Type.Optional(Shell),
    targets: Type.Optional(
      Type.Object(
        {
          system_ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }))),
          group_ids: Type.Optional(Type.Array(Type.String({ maxLength: 100 }))),
          selector: Type.Optional(Type.String({ maxLength: 4096, description: 'e.g. tag:web and not hostname:canary' })),
          all: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false, description: "The union of what is given; defaults to a saved script's targets" },
      ),
    ),
    env: Type.Optional(LaunchEnv),
    run_env: Type.Optional(RunEnv),
    timeout_s: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 86_400, description: "Seconds before the run is killed; default 120, or the saved script's" }),
    ),
    ttl_s: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 604_800, description: "How long a run waits for an offline system; default 3600, or the saved script's" }),
    ),
    run_as: Type.Optional(Type.String({ maxLength: 32 })),
    max_concurrency: Type.Optional(CountOrPercent(1, 'A count, or a percentage of the systems like "10%"')),
    max_errors: Type.Optional(CountOrPercent(0, 'Stop delivering once more runs than this have failed')),
  },
  { additionalProperties: false },
);
export type LaunchBody = Static<typeof LaunchBody>;

export const OutputQuery = Type.Object(
  { stream: Type.Optional(Type.Union([Type.Literal('stdout'), Type.Literal('stderr')])) },
  { additionalProperties: false },
);

/** The `data` of an `output` event: a chunk of a run's output. */
export const OutputEvent = Type.Object({
  run_id: Type.String(),
  system_id: Type.String(),
  hostname: Type.String(),
  stream: Type.Union([Type.Literal('stdout'), Type.Literal('stderr')]),
  data: Type.String(),
});
export type OutputEvent = Static<typeof OutputEvent>;

/** The `data` of a `run` event: a run ended. */
export const RunEndEvent = Type.Object({
  run_id: Type.String(),
  system_id: Type.String(),
  hostname: Type.String(),
  state: RunState,
  exit_code: Nullable(Type.Integer()),
  signal: Nullable(Type.String()),
  reason: Nullable(Type.String()),
});
export type RunEndEvent = Static<typeof RunEndEvent>;

/** The `data` of the `end` event, after which the stream closes. */
export const EndEvent = Type.Object({ job_id: Type.String(), run_id: Type.Optional(Type.String()) });
export type EndEvent = Static<typeof EndEvent>;
