import { RE2JS } from 're2js';
import { envNameProblem } from '../../lib/env-policy.js';
import { regexProblem } from '../../lib/safe-regex.js';
import { requireRole, type Actor } from '../access/index.js';
import type { AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { invalid, MusterError, notFound } from '../errors.js';
import { resolveTargets, type JobService, type JobView, type RunRecord, type Transition } from '../jobs/index.js';
import type { GroupService } from '../groups/index.js';
import type { NumberService } from '../numbers/index.js';
import type { ScriptRecord, ScriptService } from '../scripts/index.js';
import type { SystemRecord, SystemService, SystemStore } from '../systems/index.js';
import { scriptJobTally, type ScriptJobSummary } from './script-jobs.js';
import type { AttributeStore, CustomAttributeRecord, JobFilter, JobLinkRecord, NumberPage, TargetType } from './store.js';

export * from './store.js';
export * from './script-jobs.js';

/** Attribute names: letters, digits and `_`, starting with a letter, so each is also a variable name once upper-cased. */
const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** A system attribute holds at most this many characters (see checkAttributes). */
const MAX_VALUE = 1024;
const MAX_JOB_NAME = 255;
/** Above every integer id (PostgreSQL's integer column tops out here): listing before it starts at the newest. */
const NEWEST = 2 ** 31 - 1;

/** What a script job launch names, in core's words (ids already resolved). */
/** The script attribute that gives a script each device's variables (SimpleMDM's `variable_support`); an attribute, so the native API shows it too. */
export const VARIABLE_SUPPORT = 'simplemdm.variable_support';

/** Whether a script was saved with variable support. */
export function hasVariableSupport(script: ScriptRecord): boolean {
  return script.attributes[VARIABLE_SUPPORT] === 'true';
}

export interface ScriptJobLaunch {
  script: string;
  systemIds: string[];
  groupIds: string[];
  targetTypes: TargetType[];
  jobName?: string | undefined;
  variableSupport: boolean;
  customAttribute?: string | undefined;
  customAttributeRegex?: string | undefined;
}

/** One custom attribute as a system reads it. */
export interface AttributeValue {
  name: string;
  value: string;
  /** The system holds no value of its own: this is the attribute's default. */
  isDefault: boolean;
}

function checkAttributeName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || !ATTRIBUTE_NAME.test(value)) throw invalid(field, 'must be 1–64 letters, digits or _, starting with a letter');
  return value;
}

function checkValue(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > MAX_VALUE) throw invalid(field, `must be a string of at most ${MAX_VALUE} characters`);
  return value;
}

/** What a run's output stores in a custom attribute: the first match of `regex` (its first group when it has one), or the trimmed output. */
export function captured(stdout: string, regex: string | null): string | undefined {
  if (regex === null) return stdout.trim().slice(0, MAX_VALUE);
  const m = RE2JS.compile(regex).matcher(stdout);
  if (!m.find()) return undefined;
  const value = m.groupCount() > 0 && m.group(1) !== null ? m.group(1)! : m.group()!;
  return value.slice(0, MAX_VALUE);
}

/**
 * Custom attributes (a value per system, kept in the system's attributes),
 * script jobs launched by name with per-system variables, and the capture of
 * each system's output into a custom attribute when its run succeeds.
 */
export class AttributeService {
  constructor(
    private readonly store: AttributeStore,
    private readonly systemStore: SystemStore,
    private readonly systems: SystemService,
    private readonly groups: GroupService,
    private readonly scripts: ScriptService,
    private readonly jobs: JobService,
    private readonly numbers: NumberService,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
    private readonly onError: (err: unknown, context: Record<string, unknown>) => void,
  ) {}

  /** The organization's custom attributes, by name. */
  async list(actor: Actor): Promise<CustomAttributeRecord[]> {
    requireRole(actor, 'viewer');
    return this.store.listAttributes(actor.organizationId);
  }

  async get(actor: Actor, name: string): Promise<CustomAttributeRecord> {
    requireRole(actor, 'viewer');
    const found = await this.store.getAttribute(actor.organizationId, name);
    if (!found) throw notFound('custom attribute', name);
    return found;
  }

  /** Defines a custom attribute; CONFLICT when the name is taken. */
  async create(actor: Actor, input: { name: unknown; default_value?: unknown }): Promise<CustomAttributeRecord> {
    requireRole(actor, 'operator');
    const record: CustomAttributeRecord = {
      organizationId: actor.organizationId,
      name: checkAttributeName(input.name),
      defaultValue: input.default_value === undefined ? '' : checkValue(input.default_value, 'default_value'),
      createdAt: this.clock.now().toISOString(),
    };
    if (!(await this.store.insertAttribute(record)))
      throw new MusterError('CONFLICT', `a custom attribute named ${record.name} already exists`, { field: 'name' });
    await this.record(actor, 'custom_attribute.create', record.name, { default_value: record.defaultValue });
    return record;
  }

  async update(actor: Actor, name: string, input: { default_value?: unknown }): Promise<CustomAttributeRecord> {
    requireRole(actor, 'operator');
    const old = await this.get(actor, name);
    if (input.default_value === undefined) return old;
    const defaultValue = checkValue(input.default_value, 'default_value');
    if (!(await this.store.updateAttribute(actor.organizationId, old.name, defaultValue))) throw notFound('custom attribute', name);
    await this.record(actor, 'custom_attribute.update', old.name, { default_value: defaultValue });
    return { ...old, defaultValue };
  }

  /** Removes the definition; values systems hold stay in their attributes. */
  async remove(actor: Actor, name: string): Promise<void> {
    requireRole(actor, 'operator');
    if (!(await this.store.deleteAttribute(actor.organizationId, name))) throw notFound('custom attribute', name);
    await this.record(actor, 'custom_attribute.delete', name, {});
  }

  /** Every custom attribute of the organization as one system reads it. */
  async values(actor: Actor, systemId: string): Promise<AttributeValue[]> {
    const system = await this.systems.get(actor, systemId);
    return valuesOf(system, await this.list(actor));
  }

  /** Sets one system's values of custom attributes, by name, in one change. */
  async setValues(actor: Actor, systemId: string, values: Record<string, unknown>): Promise<AttributeValue[]> {
    const defined = new Map((await this.list(actor)).map((a) => [a.name, a]));
    const checked: Record<string, string> = {};
    for (const [name, value] of Object.entries(values)) {
      if (!defined.has(name)) throw notFound('custom attribute', name);
      checked[name] = checkValue(value, `${name}.value`);
    }
    const system = await this.systems.get(actor, systemId);
    await this.systems.update(actor, system.id, { attributes: { ...system.attributes, ...checked } }, { attributes: 'value' });
    return Object.entries(checked).map(([name, value]) => ({ name, value, isDefault: false }));
  }

  /**
   * Launches a saved script on systems and groups. With variable support each
   * system's run gets its own variables (see `variables`), never written into
   * the script. With a custom attribute, each system's output is stored in
   * it when its run succeeds.
   */
  async launch(actor: Actor, input: ScriptJobLaunch): Promise<{ job: JobView; runs: RunRecord[]; link: JobLinkRecord }> {
    requireRole(actor, 'operator');
    const script = await this.scripts.get(actor, input.script);
    const customAttribute =
      input.customAttribute === undefined ? null : (await this.get(actor, checkAttributeName(input.customAttribute, 'custom_attribute'))).name;
    const regex = input.customAttributeRegex ?? null;
    if (regex !== null) {
      if (customAttribute === null) throw invalid('custom_attribute_regex', 'needs custom_attribute');
      const problem = regexProblem(regex);
      if (problem) throw invalid('custom_attribute_regex', problem);
    }
    if (input.jobName !== undefined && (input.jobName.length > MAX_JOB_NAME || input.jobName.trim() === ''))
      throw invalid('job_name', `must be 1–${MAX_JOB_NAME} characters`);
    for (const g of input.groupIds) await this.groups.get(actor, g);
    const { systemIds } = await resolveTargets(this.systemStore, actor.organizationId, {
      ...(input.systemIds.length > 0 ? { system_ids: input.systemIds } : {}),
      ...(input.groupIds.length > 0 ? { group_ids: input.groupIds } : {}),
    });
    const runEnv = input.variableSupport ? await this.variables(actor, systemIds) : undefined;
    const launched = await this.scripts.launch(actor, script.id, { source: 'api', targets: { system_ids: systemIds }, ...(runEnv ? { runEnv } : {}) });
    const link: JobLinkRecord = {
      jobId: launched.job.id,
      organizationId: actor.organizationId,
      jobName: input.jobName ?? script.name,
      targetTypes: input.targetTypes,
      groupIds: input.groupIds,
      variableSupport: input.variableSupport,
      customAttribute,
      customAttributeRegex: regex,
    };
    await this.store.insertJobLink(link);
    // A run that ended before the link was written was not captured by the subscriber.
    if (customAttribute !== null) await this.captureRuns(actor.organizationId, link, launched.job.id);
    return { ...launched, link };
  }

  /** The links of these jobs (those launched through `launch`). */
  async links(actor: Actor, jobIds: readonly string[]): Promise<Map<string, JobLinkRecord>> {
    requireRole(actor, 'viewer');
    return jobIds.length === 0 ? new Map() : this.store.getJobLinks(actor.organizationId, jobIds);
  }

  /** Each run's stdout of a job of the organization, keyed by run id. */
  async outputs(actor: Actor, jobId: string): Promise<Map<string, string>> {
    requireRole(actor, 'viewer');
    return this.store.jobOutputs(actor.organizationId, jobId);
  }

  /** Jobs launched from saved scripts, filtered and paged by integer id. */
  async search(actor: Actor, filter: JobFilter, page: NumberPage): Promise<{ jobIds: string[]; hasMore: boolean }> {
    requireRole(actor, 'viewer');
    await this.numbers.numberAll('job', actor.organizationId);
    return this.store.searchJobs(actor.organizationId, filter, page);
  }

  /**
   * Script jobs (jobs of saved scripts) as SimpleMDM shows them, newest
   * first: `before` an integer id when given, at most `limit`, with whether
   * older ones remain.
   */
  async scriptJobs(actor: Actor, page: { limit: number; before?: number | undefined }): Promise<{ items: ScriptJobSummary[]; hasMore: boolean }> {
    if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > 100) throw invalid('limit', 'must be an integer from 1 to 100');
    if (page.before !== undefined && !(page.before >= 1 && page.before <= NEWEST)) throw invalid('before', 'must be the integer id of a script job');
    const { jobIds, hasMore } = await this.search(actor, {}, { limit: page.limit, before: page.before ?? NEWEST });
    const newest = [...jobIds].reverse();
    const [links, numbers] = await Promise.all([this.links(actor, newest), this.numbers.numbers('job', actor.organizationId, newest)]);
    const items: ScriptJobSummary[] = [];
    for (const id of newest) {
      const job = await this.jobs.get(actor, id);
      const script = job.scriptId ? await this.scripts.get(actor, job.scriptId).catch(() => undefined) : undefined;
      const link = links.get(id);
      const scriptName = script?.name ?? link?.jobName ?? '';
      items.push({ job, number: numbers.get(id)!, scriptName, jobName: link?.jobName ?? scriptName, tally: scriptJobTally(job) });
    }
    return { items, hasMore };
  }

  /**
   * Each system's variables: `DEVICE_NAME`, `DEVICE_ID` (its integer id),
   * `SERIAL_NUMBER` (its reported serial, else its id) and every custom
   * attribute, upper-cased, with the system's value or the default. A name
   * the environment policy refuses is left out.
   */
  async variables(actor: Actor, systemIds: readonly string[]): Promise<Record<string, Record<string, string>>> {
    const attributes = await this.list(actor);
    const numbers = await this.numbers.numbers('system', actor.organizationId, systemIds);
    const out: Record<string, Record<string, string>> = {};
    for (const id of systemIds) {
      const system = await this.systems.get(actor, id);
      const serial = system.facts.serial_number;
      const env: Record<string, string> = {};
      for (const v of valuesOf(system, attributes)) env[v.name.toUpperCase()] = v.value;
      Object.assign(env, {
        DEVICE_NAME: system.displayName,
        DEVICE_ID: String(numbers.get(id) ?? id),
        SERIAL_NUMBER: typeof serial === 'string' && serial !== '' ? serial : system.id,
      });
      out[id] = Object.fromEntries(Object.entries(env).filter(([name]) => envNameProblem(name) === undefined));
    }
    return out;
  }

  /** The transition subscriber: stores captured output of each succeeded run whose job asked for it. */
  async captureEnded(transitions: readonly Transition[]): Promise<void> {
    const ended = transitions.filter((t) => t.kind === 'run' && t.to === 'succeeded');
    const byOrg = new Map<string, Set<string>>();
    for (const t of ended) byOrg.set(t.organizationId, (byOrg.get(t.organizationId) ?? new Set()).add(t.jobId));
    for (const [organizationId, jobIds] of byOrg) {
      const links = await this.store.getJobLinks(organizationId, [...jobIds]);
      for (const t of ended) {
        const link = links.get(t.jobId);
        if (t.kind !== 'run' || !link?.customAttribute) continue;
        await this.captureRun(organizationId, link, t.runId).catch((err: unknown) => this.onError(err, { during: 'custom attribute capture', run: t.runId }));
      }
    }
  }

  private async record(actor: Actor, action: string, name: string, details: Record<string, unknown>): Promise<void> {
    await this.audit.record(
      { organizationId: actor.organizationId, actor: actor.label, action, targetType: 'custom_attribute', targetId: name, details },
      this.clock.now(),
    );
  }

  private async captureRuns(organizationId: string, link: JobLinkRecord, jobId: string): Promise<void> {
    const runs = await this.jobs.runs(captureActor(organizationId), jobId);
    for (const run of runs.filter((r) => r.state === 'succeeded')) await this.captureRun(organizationId, link, run.id);
  }

  private async captureRun(organizationId: string, link: JobLinkRecord, runId: string): Promise<void> {
    const actor = captureActor(organizationId);
    const run = await this.jobs.run(actor, runId);
    const value = captured(run.stdout, link.customAttributeRegex);
    if (value === undefined) return;
    const system = await this.systems.get(actor, run.systemId);
    await this.systems.update(actor, system.id, { attributes: { ...system.attributes, [link.customAttribute!]: value } });
  }
}

/** Who writes captured values: the organization's own engine, audited under this label. */
function captureActor(organizationId: string): Actor {
  return { organizationId, role: 'operator', label: 'custom_attribute_capture' };
}

function valuesOf(system: SystemRecord, attributes: CustomAttributeRecord[]): AttributeValue[] {
  return attributes.map((a) => {
    const own = system.attributes[a.name];
    return { name: a.name, value: own ?? a.defaultValue, isDefault: own === undefined };
  });
}
