import Type, { type Static } from 'typebox';
import { MusterError } from '../../../core/errors.js';
import type { ScriptInput, ScriptRecord } from '../../../core/scripts/index.js';
import { SHELLS, type Shell } from '../../../protocol/messages.js';
import { refuseUnsupported, type Unsupported } from '../unsupported.js';

/** JumpCloud's id for "run as root": muster's default, which is the agent's own user (root on a managed machine). */
export const ROOT_USER = '000000000000000000000000';

/**
 * A JumpCloud v1 command body. `systems` sets the command's bound systems;
 * `listensTo`, `scheduleRepeatType`, `scheduleYear` and `template` are kept as
 * given; `files` and `commandRunners` are accepted empty only (see
 * UNSUPPORTED). Other fields (`CommandID`, `launchTypeExtra`…) that clients
 * send along are ignored, as JumpCloud ignores them.
 */
export const CommandBody = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 100 })),
    command: Type.Optional(Type.String()),
    commandType: Type.Optional(Type.String({ description: 'linux, mac or windows' })),
    user: Type.Optional(Type.String({ maxLength: 32 })),
    sudo: Type.Optional(Type.Boolean()),
    launchType: Type.Optional(Type.String({ description: 'manual, trigger, repeated or one-time' })),
    trigger: Type.Optional(Type.String({ maxLength: 64 })),
    schedule: Type.Optional(Type.String({ maxLength: 100, description: 'cron (repeated) or an ISO-8601 instant (one-time)' })),
    timezone: Type.Optional(Type.String({ maxLength: 64, description: 'muster extension: the time zone of the cron schedule' })),
    timeout: Type.Optional(Type.Union([Type.String({ pattern: '^[0-9]{1,6}$' }), Type.Integer({ minimum: 0 })])),
    timeToLiveSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
    shell: Type.Optional(Type.String({ maxLength: 32 })),
    organization: Type.Optional(Type.String()),
    runOnEnroll: Type.Optional(Type.Boolean({ description: 'muster extension: run on every newly enrolled system the command is bound to' })),
    systems: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 10_000, description: 'the ids of the systems the command is bound to' }),
    ),
    listensTo: Type.Optional(Type.String({ maxLength: 1024 })),
    scheduleRepeatType: Type.Optional(Type.String({ maxLength: 1024 })),
    scheduleYear: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 9999 }), Type.String({ pattern: '^[0-9]{0,4}$' }), Type.Null()])),
    template: Type.Optional(Type.String({ maxLength: 1024 })),
    files: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 100 })),
    commandRunners: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 1000 })),
  },
  { additionalProperties: true },
);

export type CommandBodyType = Static<typeof CommandBody>;

/** What muster cannot do with a command: deliver files with it, or let other users than API keys run it. */
const UNSUPPORTED: Record<string, Unsupported> = {
  files: { accepts: [[]], why: 'muster does not deliver files with commands' },
  commandRunners: { accepts: [[]], why: 'muster has no command runner users: API key roles decide who may run a command' },
};

/** JumpCloud fields muster keeps as the script's attributes, by their JumpCloud names. */
const KEPT_AS_ATTRIBUTES = ['listensTo', 'scheduleRepeatType', 'scheduleYear', 'template'] as const;

/** The script's attributes after a body's kept fields; an empty value removes one. */
function attributesOf(body: CommandBodyType, current: ScriptRecord | undefined): Record<string, string> | undefined {
  if (!KEPT_AS_ATTRIBUTES.some((k) => body[k] !== undefined)) return undefined;
  const attributes = { ...current?.attributes };
  for (const key of KEPT_AS_ATTRIBUTES) {
    const value = body[key];
    if (value === undefined) continue;
    if (value === null || value === '' || (key === 'scheduleYear' && Number(value) === 0)) delete attributes[key];
    else attributes[key] = String(key === 'scheduleYear' ? Number(value) : value);
  }
  return attributes;
}

/** JumpCloud's shell names and paths → muster's shells. */
const SHELL_NAMES: Record<string, Shell> = {
  bash: 'bash',
  '/bin/bash': 'bash',
  '/usr/bin/bash': 'bash',
  sh: 'sh',
  '/bin/sh': 'sh',
  zsh: 'zsh',
  '/bin/zsh': 'zsh',
  python3: 'python3',
  powershell: 'powershell',
  pwsh: 'powershell',
};

function shellOf(value: string): string {
  const shell = Object.hasOwn(SHELL_NAMES, value.toLowerCase()) ? SHELL_NAMES[value.toLowerCase()] : undefined;
  if (!shell) throw new MusterError('INVALID_ARGUMENT', `shell: ${value} is not supported (${SHELLS.join(', ')})`, { field: 'shell' });
  return shell;
}

/**
 * A JumpCloud command body → muster's script input. Only the fields given
 * are set, so a PUT that names some fields leaves the others as they were.
 * `schedule` is a cron for `repeated` and an instant for `one-time`: which one
 * depends on the launch type given, or else on the command's current one.
 */
export function commandInput(body: CommandBodyType, current?: ScriptRecord): ScriptInput {
  refuseUnsupported(body, UNSUPPORTED);
  const input: ScriptInput = {};
  const launchType = body.launchType || current?.launchType || 'manual';
  if (body.name !== undefined) input.name = body.name;
  if (body.command !== undefined) input.content = body.command;
  if (body.commandType !== undefined) {
    if (!['linux', 'mac', 'windows'].includes(body.commandType))
      throw new MusterError('INVALID_ARGUMENT', 'commandType: must be linux, mac or windows', { field: 'commandType' });
    input.platform = body.commandType;
    if (body.shell === undefined && body.commandType === 'windows') input.shell = 'powershell';
  }
  if (body.shell !== undefined && body.shell !== '') input.shell = shellOf(body.shell);
  if (body.user !== undefined) input.run_as = body.user === ROOT_USER || body.user === '' ? null : body.user;
  if (body.launchType !== undefined && body.launchType !== '') input.launch_type = body.launchType;
  if (body.trigger !== undefined) input.trigger = body.trigger === '' ? null : body.trigger;
  if (body.schedule !== undefined) {
    if (launchType === 'one-time') input.run_at = body.schedule === '' ? null : body.schedule;
    else input.schedule = body.schedule === '' ? null : body.schedule;
  }
  if (body.timezone !== undefined) input.timezone = body.timezone;
  const timeout = body.timeout === undefined ? undefined : Number(body.timeout);
  // JumpCloud sends 0 for "the default".
  if (timeout !== undefined && timeout > 0) input.timeout_s = timeout;
  if (body.timeToLiveSeconds !== undefined && body.timeToLiveSeconds > 0) input.ttl_s = body.timeToLiveSeconds;
  if (body.runOnEnroll !== undefined) input.run_on_enroll = body.runOnEnroll;
  if (body.systems !== undefined) {
    // JumpCloud's older models bind systems in the body; groups and a selector stay as they were.
    const t = current?.defaultTargets;
    input.default_targets = { system_ids: [...new Set(body.systems)], group_ids: t?.groupIds ?? [], selector: t?.selector ?? null };
  }
  const attributes = attributesOf(body, current);
  if (attributes !== undefined) input.attributes = attributes;
  return input;
}

/** A script in JumpCloud's v1 command shape. */
export function commandView(s: ScriptRecord) {
  return {
    _id: s.id,
    id: s.id,
    name: s.name,
    command: s.content,
    commandType: s.platform ?? (s.shell === 'powershell' ? 'windows' : 'linux'),
    user: s.runAs ?? ROOT_USER,
    sudo: false,
    launchType: s.launchType,
    trigger: s.triggerName ?? '',
    schedule: s.launchType === 'one-time' ? (s.runAt ?? '') : (s.schedule ?? ''),
    timezone: s.timezone ?? 'UTC',
    timeout: String(s.timeoutS),
    timeToLiveSeconds: s.ttlS,
    shell: s.shell,
    organization: s.organizationId,
    runOnEnroll: s.runOnEnroll,
    nextFireAt: s.nextFireAt,
    systems: s.defaultTargets.systemIds,
    listensTo: s.attributes.listensTo ?? '',
    scheduleRepeatType: s.attributes.scheduleRepeatType ?? '',
    scheduleYear: s.attributes.scheduleYear === undefined ? null : Number(s.attributes.scheduleYear),
    template: s.attributes.template ?? '',
    files: [] as string[],
    commandRunners: [] as string[],
  };
}
