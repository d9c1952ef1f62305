import { requireRole, type Actor } from '../access/index.js';
import type { AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { invalid, isMusterError, notFound } from '../errors.js';
import { isId } from '../ids.js';
import { resolveTargets, type JobView, type RunRecord } from '../jobs/index.js';
import type { ScriptRecord, ScriptService, ScriptStore } from '../scripts/index.js';
import type { SystemRecord, SystemStore } from '../systems/index.js';
import { checkResultQuery, type ResultListOptions } from './result-query.js';
import type { CommandResultQuery, CommandResultRecord, CommandResultStore, CommandResultSummary } from './store.js';

export * from './store.js';
export type { ResultListOptions } from './result-query.js';
export { TriggerService, type ReplayGuard, type TriggerCall, type TriggerOutcome } from './triggers.js';
export { triggerEnv, signTrigger, TRIGGER_BODY_MAX_BYTES } from './trigger-env.js';

/** A binding of a command to a system or a group. */
export interface Binding {
  op: 'add' | 'remove';
  type: 'system' | 'group';
  id: string;
}

/** A system a command runs on, and the group it comes through (null when bound directly). */
export interface BoundSystem {
  systemId: string;
  groupId: string | null;
}

/** Reports failures that must not fail the caller (an enrollment whose follow-up launch failed). */
export type ErrorSink = (err: unknown, context: Record<string, unknown>) => void;

/** A new system's own variables for a run-on-enroll script (keyed by system id), or none. */
export type RunEnvOf = (actor: Actor, script: ScriptRecord, systemId: string) => Promise<Record<string, Record<string, string>> | undefined>;

/**
 * Commands — saved scripts seen with their bindings, their results, and the
 * launches that are not a person's (run now, run-on-enroll).
 */
export class CommandService {
  constructor(
    private readonly scripts: ScriptService,
    private readonly scriptStore: ScriptStore,
    private readonly systems: SystemStore,
    private readonly results: CommandResultStore,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
    private readonly onError: ErrorSink = () => {},
  ) {}

  /**
   * Launches a saved script now, on the given systems or else on its bound
   * targets; `runEnv` gives systems variables of their own over `env`.
   */
  async runNow(
    actor: Actor,
    idOrName: string,
    options: { systemIds?: string[]; env?: Record<string, string>; runEnv?: Record<string, Record<string, string>> } = {},
  ): Promise<{ job: JobView; runs: RunRecord[] }> {
    const targets = options.systemIds && options.systemIds.length > 0 ? { system_ids: options.systemIds } : undefined;
    return this.scripts.launch(actor, idOrName, {
      source: 'api',
      targets,
      ...(options.env ? { env: options.env } : {}),
      ...(options.runEnv ? { runEnv: options.runEnv } : {}),
    });
  }

  /** The systems and groups a command is bound to. */
  async bindings(actor: Actor, id: string): Promise<{ systemIds: string[]; groupIds: string[] }> {
    const script = await this.scripts.get(actor, id);
    return { systemIds: script.defaultTargets.systemIds, groupIds: script.defaultTargets.groupIds };
  }

  /** Binds a command to a system or group, or unbinds it; NOT_FOUND for a system or group the organization lacks. */
  async bind(actor: Actor, id: string, binding: Binding): Promise<ScriptRecord> {
    requireRole(actor, 'operator');
    const script = await this.scripts.get(actor, id);
    if (binding.op !== 'add' && binding.op !== 'remove') throw invalid('op', 'must be add or remove');
    if (binding.type !== 'system' && binding.type !== 'group') throw invalid('type', 'must be system or group');
    const t = script.defaultTargets;
    const list = binding.type === 'system' ? t.systemIds : t.groupIds;
    if (binding.op === 'add' && !list.includes(binding.id)) await this.mustExist(actor.organizationId, binding);
    const next = binding.op === 'add' ? [...new Set([...list, binding.id])] : list.filter((x) => x !== binding.id);
    const targets = binding.type === 'system' ? { ...t, systemIds: next } : { ...t, groupIds: next };
    return this.scripts.update(actor, script.id, {
      default_targets: { system_ids: targets.systemIds, group_ids: targets.groupIds, selector: targets.selector },
    });
  }

  /** Every system a command is bound to, directly or through a group. */
  async boundSystems(actor: Actor, id: string): Promise<BoundSystem[]> {
    const script = await this.scripts.get(actor, id);
    const t = script.defaultTargets;
    const direct = (await this.systems.existingSystemIds(actor.organizationId, t.systemIds.filter(isId))).map((systemId) => ({ systemId, groupId: null }));
    const viaGroups = t.groupIds.length ? await this.results.groupMembers(actor.organizationId, t.groupIds) : [];
    return [...direct, ...viaGroups.map((m) => ({ systemId: m.systemId, groupId: m.groupId }))];
  }

  /** Ended runs of jobs launched from saved commands, with their output; newest first unless sorted. */
  async listResults(actor: Actor, options: ResultListOptions = {}): Promise<{ total: number; items: CommandResultRecord[] }> {
    return this.results.listResults(actor.organizationId, await this.resultQuery(actor, options));
  }

  /** The same page without output, for listings that do not show it. */
  async listResultSummaries(actor: Actor, options: ResultListOptions = {}): Promise<{ total: number; items: CommandResultSummary[] }> {
    return this.results.listResultSummaries(actor.organizationId, await this.resultQuery(actor, options));
  }

  private async resultQuery(actor: Actor, options: ResultListOptions): Promise<CommandResultQuery> {
    requireRole(actor, 'viewer');
    const query = checkResultQuery(options);
    // A command may be named by id or name; results are filed under its id.
    if (query.commandId !== undefined) query.commandId = (await this.scripts.get(actor, query.commandId)).id;
    return query;
  }

  /** One command result (a run of a command's job). */
  async getResult(actor: Actor, runId: string): Promise<CommandResultRecord> {
    requireRole(actor, 'viewer');
    const result = isId(runId) ? await this.results.getResult(actor.organizationId, runId) : undefined;
    if (!result) throw notFound('command result', runId);
    return result;
  }

  /** Deletes a command result from listings; the run itself stays in its job. */
  async deleteResult(actor: Actor, runId: string): Promise<CommandResultRecord> {
    requireRole(actor, 'operator');
    const result = await this.getResult(actor, runId);
    const now = this.clock.now();
    await this.results.hideResult(actor.organizationId, runId, now.toISOString());
    await this.audit.record(
      { organizationId: actor.organizationId, actor: actor.label, action: 'command_result.delete', targetType: 'run', targetId: runId },
      now,
    );
    return result;
  }

  /**
   * Run-on-enroll: launches, for a system that just enrolled, every command
   * flagged run-on-enroll whose targets cover it. Never throws: enrollment
   * has happened whatever follows; failures go to the error sink.
   */
  async systemEnrolled(system: SystemRecord, runEnvOf: RunEnvOf = async () => undefined): Promise<void> {
    try {
      const actor: Actor = { organizationId: system.organizationId, role: 'operator', label: `enroll:${system.id}` };
      for (const script of await this.scriptStore.listRunOnEnroll(system.organizationId)) {
        if (!(await this.covers(system, script))) continue;
        try {
          const runEnv = await runEnvOf(actor, script, system.id);
          await this.scripts.launch(actor, script.id, { source: 'enroll', targets: { system_ids: [system.id] }, ...(runEnv ? { runEnv } : {}) });
        } catch (err) {
          this.onError(err, { script: script.id, system: system.id, during: 'run-on-enroll' });
        }
      }
    } catch (err) {
      this.onError(err, { system: system.id, during: 'run-on-enroll' });
    }
  }

  private async covers(system: SystemRecord, script: ScriptRecord): Promise<boolean> {
    const t = script.defaultTargets;
    if (t.systemIds.includes(system.id)) return true;
    if (t.groupIds.length === 0 && t.selector === null) return false;
    try {
      const { systemIds } = await resolveTargets(this.systems, system.organizationId, {
        ...(t.groupIds.length ? { group_ids: t.groupIds } : {}),
        ...(t.selector !== null ? { selector: t.selector } : {}),
      });
      return systemIds.includes(system.id);
    } catch (err) {
      if (isMusterError(err)) return false;
      throw err;
    }
  }

  private async mustExist(organizationId: string, binding: Binding): Promise<void> {
    const ok =
      binding.type === 'system'
        ? isId(binding.id) && (await this.systems.existingSystemIds(organizationId, [binding.id])).length === 1
        : (await this.results.existingGroupIds(organizationId, [binding.id])).length === 1;
    if (!ok) throw notFound(binding.type, binding.id);
  }
}
