import { requireRole, type Actor } from '../access/index.js';
import type { AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { invalid, MusterError, notFound } from '../errors.js';
import { isId, newId } from '../ids.js';
import {
  checkContent,
  checkRunAs,
  checkShell,
  checkTimeout,
  checkTtl,
  type JobLimits,
  type JobService,
  type JobSource,
  type JobView,
  type LaunchInput,
  type RunRecord,
} from '../jobs/index.js';
import { checkAttributes } from '../systems/index.js';
import { COMMAND_FIELDS, commandFields, type CommandFieldsInput } from './command-fields.js';
import type { ScriptRecord, ScriptStore, ScriptTargets } from './store.js';

export type { ScriptRecord, ScriptStore, ScriptTargets, LaunchType } from './store.js';
export { LAUNCH_TYPES, PLATFORMS } from './store.js';
export { checkTriggerName, type CommandFieldsInput } from './command-fields.js';

/** What a caller may set on a script; on update, a field left undefined keeps its value. */
export interface ScriptInput extends CommandFieldsInput {
  name?: unknown;
  content?: unknown;
  shell?: unknown;
  run_as?: unknown;
  timeout_s?: unknown;
  ttl_s?: unknown;
  default_targets?: unknown;
  /** Replaces the script's attributes whole. */
  attributes?: unknown;
}

const SCRIPT_FIELDS = ['name', 'content', 'shell', 'run_as', 'timeout_s', 'ttl_s', 'default_targets', 'attributes', ...COMMAND_FIELDS] as const;

/** Bounds on default targets, to keep a row small; whether the ids exist is checked at launch. */
const MAX_TARGET_IDS = 10_000;
const MAX_TARGET_ID_LENGTH = 128;
const MAX_SELECTOR_LENGTH = 4096;

function checkName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid('name', 'must be a non-empty string');
  const name = value.trim();
  if (name.length > 100) throw invalid('name', 'must be at most 100 characters');
  return name;
}

function checkIdList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(field, 'must be an array of strings');
  if (value.length > MAX_TARGET_IDS) throw invalid(field, `must hold at most ${MAX_TARGET_IDS} entries`);
  value.forEach((v: unknown, i) => {
    if (typeof v !== 'string' || v === '' || v.length > MAX_TARGET_ID_LENGTH)
      throw invalid(`${field}[${i}]`, `must be a non-empty string of at most ${MAX_TARGET_ID_LENGTH} characters`);
  });
  return [...(value as string[])];
}

/** Shapes only: selector grammar and whether ids exist are checked when the script is launched. */
function checkTargets(value: unknown): ScriptTargets {
  if (value === undefined || value === null) return { systemIds: [], groupIds: [], selector: null };
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('default_targets', 'must be an object with system_ids, group_ids and selector');
  const t = value as Record<string, unknown>;
  const unknownKey = Object.keys(t).find((k) => !['system_ids', 'group_ids', 'selector'].includes(k));
  if (unknownKey) throw invalid(`default_targets.${unknownKey}`, 'is not a known field');
  const selector = t.selector ?? null;
  if (selector !== null && (typeof selector !== 'string' || selector.length > MAX_SELECTOR_LENGTH)) {
    throw invalid('default_targets.selector', `must be null or a string of at most ${MAX_SELECTOR_LENGTH} characters`);
  }
  return {
    systemIds: checkIdList(t.system_ids, 'default_targets.system_ids'),
    groupIds: checkIdList(t.group_ids, 'default_targets.group_ids'),
    selector: selector === '' ? null : selector,
  };
}

/**
 * How a saved script is launched. Overrides (`shell`, `run_as`, `timeout_s`,
 * `ttl_s`, `max_concurrency`, `max_errors`) are shaped as on a job launch;
 * `content` is refused, since a saved script's content is its own.
 */
export interface ScriptLaunch extends Omit<LaunchInput, 'targets' | 'run_env'> {
  source: JobSource;
  /** Where to run it; the script's bound targets when absent. */
  targets?: unknown;
  /** Per-system variables, keyed by system id, laid over `env` for that system's run. */
  runEnv?: unknown;
  /** The job this launch retries. */
  retryOf?: string;
}

/**
 * Saved scripts: operators write and launch them, anyone in the organization
 * reads them. A script with bindings (a trigger, a schedule, run-on-enroll,
 * bound targets) launches through the same `launch` as one a person runs.
 */
export class ScriptService {
  constructor(
    private readonly store: ScriptStore,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
    private readonly limits: JobLimits,
    /** What `launch` writes jobs through. */
    private readonly jobs: JobService,
  ) {}

  /** Saves a new script; CONFLICT when the organization already has one of that name. */
  async create(actor: Actor, input: ScriptInput): Promise<ScriptRecord> {
    requireRole(actor, 'operator');
    const now = this.clock.now();
    const { reschedule: _, ...command } = commandFields(input, undefined, now);
    const script: ScriptRecord = {
      ...command,
      id: newId(),
      organizationId: actor.organizationId,
      name: checkName(input.name),
      content: checkContent(input.content, this.limits.scriptBytes),
      shell: checkShell(input.shell),
      runAs: checkRunAs(input.run_as),
      timeoutS: checkTimeout(input.timeout_s),
      ttlS: checkTtl(input.ttl_s),
      defaultTargets: checkTargets(input.default_targets),
      attributes: input.attributes === undefined ? {} : checkAttributes(input.attributes, 'attributes'),
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      createdBy: actor.label,
    };
    if (!(await this.store.insertScript(script))) throw nameTaken(script.name);
    await this.audit.record(
      {
        organizationId: actor.organizationId,
        actor: actor.label,
        action: 'script.create',
        targetType: 'script',
        targetId: script.id,
        details: { name: script.name },
      },
      now,
    );
    return script;
  }

  /** The organization's scripts, oldest first. */
  async list(actor: Actor): Promise<ScriptRecord[]> {
    requireRole(actor, 'viewer');
    return this.store.listScripts(actor.organizationId);
  }

  /** One script by id, or else by exact name; NOT_FOUND when neither matches in the organization. */
  async get(actor: Actor, idOrName: string): Promise<ScriptRecord> {
    requireRole(actor, 'viewer');
    const byId = isId(idOrName) ? await this.store.getScript(actor.organizationId, idOrName) : undefined;
    const script = byId ?? (await this.store.findScriptByName(actor.organizationId, idOrName));
    if (!script) throw notFound('script', idOrName);
    return script;
  }

  /**
   * Launches a saved script as a job: every face, trigger, schedule and
   * run-on-enroll comes through here. The job freezes the script's content
   * and takes its shell, run-as user, timeout, time-to-live and bound
   * targets unless the launch names its own; `runEnv` gives each system's
   * run variables of its own on top of `env`.
   */
  async launch(actor: Actor, ref: string, launch: ScriptLaunch): Promise<{ job: JobView; runs: RunRecord[] }> {
    const { source, retryOf, runEnv, targets, ...overrides } = launch;
    if (overrides.content !== undefined) throw invalid('content', 'give either content or script, not both');
    const script = await this.get(actor, ref);
    const input: LaunchInput = {
      ...overrides,
      content: script.content,
      shell: overrides.shell ?? script.shell,
      run_as: overrides.run_as ?? script.runAs ?? undefined,
      timeout_s: overrides.timeout_s ?? script.timeoutS,
      ttl_s: overrides.ttl_s ?? script.ttlS,
      targets: targets ?? boundTargets(script),
      ...(runEnv !== undefined ? { run_env: runEnv } : {}),
    };
    return this.jobs.launch(actor, input, source, { scriptId: script.id, ...(retryOf !== undefined ? { retryOf } : {}) });
  }

  /** Changes the fields given; the rest keep their values. `default_targets`, when given, replaces the old ones whole. */
  async update(actor: Actor, id: string, input: ScriptInput): Promise<ScriptRecord> {
    requireRole(actor, 'operator');
    const old = isId(id) ? await this.store.getScript(actor.organizationId, id) : undefined;
    if (!old) throw notFound('script', id);
    const now = this.clock.now();
    const { reschedule, ...command } = commandFields(input, old, now);
    const script: ScriptRecord = {
      ...old,
      ...command,
      name: input.name === undefined ? old.name : checkName(input.name),
      content: input.content === undefined ? old.content : checkContent(input.content, this.limits.scriptBytes),
      shell: input.shell === undefined ? old.shell : checkShell(input.shell),
      runAs: input.run_as === undefined ? old.runAs : checkRunAs(input.run_as),
      timeoutS: input.timeout_s === undefined ? old.timeoutS : checkTimeout(input.timeout_s),
      ttlS: input.ttl_s === undefined ? old.ttlS : checkTtl(input.ttl_s),
      defaultTargets: input.default_targets === undefined ? old.defaultTargets : checkTargets(input.default_targets),
      attributes: input.attributes === undefined ? old.attributes : checkAttributes(input.attributes, 'attributes'),
    };
    script.updatedAt = now.toISOString();
    const result = await this.store.updateScript(script, { reschedule });
    if (result === 'not_found') throw notFound('script', id);
    if (result === 'name_taken') throw nameTaken(script.name);
    const changed = SCRIPT_FIELDS.filter((k) => input[k] !== undefined);
    await this.audit.record(
      {
        organizationId: actor.organizationId,
        actor: actor.label,
        action: 'script.update',
        targetType: 'script',
        targetId: id,
        details: { name: script.name, fields: changed },
      },
      now,
    );
    return script;
  }

  /** Deletes a script; jobs launched from it keep their frozen copy. */
  async remove(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'operator');
    if (!isId(id) || !(await this.store.deleteScript(actor.organizationId, id))) throw notFound('script', id);
    await this.audit.record(
      { organizationId: actor.organizationId, actor: actor.label, action: 'script.delete', targetType: 'script', targetId: id },
      this.clock.now(),
    );
  }
}

/** A script's bound targets as a launch names them; INVALID_ARGUMENT when it has none. */
function boundTargets(script: ScriptRecord): LaunchInput['targets'] {
  const t = script.defaultTargets;
  if (t.systemIds.length === 0 && t.groupIds.length === 0 && t.selector === null) {
    throw invalid('targets', `script ${script.name} has no default targets: name the systems to run it on`);
  }
  return {
    ...(t.systemIds.length > 0 ? { system_ids: t.systemIds } : {}),
    ...(t.groupIds.length > 0 ? { group_ids: t.groupIds } : {}),
    ...(t.selector !== null ? { selector: t.selector } : {}),
  };
}

function nameTaken(name: string): MusterError {
  return new MusterError('CONFLICT', `a script named ${name} already exists`, { field: 'name' });
}
