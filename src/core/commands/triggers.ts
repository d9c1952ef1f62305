import { hash, randomBytes } from 'node:crypto';
import { requireRole, type Actor } from '../access/index.js';
import { refusedCredential, type AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { invalid, isMusterError, MusterError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { checkTriggerName, type ScriptService, type ScriptStore } from '../scripts/index.js';
import type { TriggerRecord, TriggerStore } from './store.js';
import { parseSignature, SIGNATURE_WINDOW_S, signatureMatches, triggerEnv } from './trigger-env.js';

/** Remembers used signatures across replicas (the store's used-signature table). */
export interface ReplayGuard {
  /** False when `digest` was already recorded and has not expired. */
  remember(digest: string, expiresAt: string, now: string): Promise<boolean>;
}

/** One call of a trigger, as a face received it. */
export interface TriggerCall {
  name: string;
  /** The raw body (its top-level keys become environment variables). */
  body: string | undefined;
  /** The API-key caller, when the call carried a key. */
  actor?: Actor | undefined;
  /** `X-Muster-Signature`, for calls signed with the trigger's secret instead of a key. */
  signature?: string | undefined;
  /** Narrows a signed call to one organization (`x-org-id`). */
  organizationId?: string | undefined;
  idempotencyKey?: string | undefined;
}

/** What a trigger call started: one job per command, each on the command's own targets. */
export interface TriggerOutcome {
  triggered: string[];
  jobs: Array<{ commandId: string; jobId: string }>;
  /** Commands with this trigger that could not launch (no targets, say), with why. */
  skipped: Array<{ commandId: string; reason: string }>;
  /** True when an earlier call with the same Idempotency-Key is being answered again. */
  replayed: boolean;
}

/** Idempotency keys are kept this long: monitoring systems retry within minutes, not days. */
const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

/** Named triggers: create, list, delete, rotate their secrets, and fire them. */
export class TriggerService {
  constructor(
    private readonly store: TriggerStore,
    private readonly scriptStore: ScriptStore,
    private readonly scripts: ScriptService,
    private readonly replay: ReplayGuard,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
  ) {}

  /** Creates a trigger, with a new secret when asked (shown only here); CONFLICT when the name is taken. */
  async create(actor: Actor, input: { name?: unknown; secret?: unknown }): Promise<{ trigger: TriggerRecord; secret: string | null }> {
    requireRole(actor, 'operator');
    if (input.secret !== undefined && typeof input.secret !== 'boolean') throw invalid('secret', 'must be a boolean');
    const now = this.clock.now();
    const secret = input.secret === true ? newSecret() : null;
    const trigger: TriggerRecord = {
      id: newId(),
      organizationId: actor.organizationId,
      name: checkTriggerName(input.name, 'name'),
      secret,
      createdAt: now.toISOString(),
      createdBy: actor.label,
    };
    if (!(await this.store.insertTrigger(trigger))) throw new MusterError('CONFLICT', `a trigger named ${trigger.name} already exists`, { field: 'name' });
    await this.audit.record(
      {
        organizationId: actor.organizationId,
        actor: actor.label,
        action: 'trigger.create',
        targetType: 'trigger',
        targetId: trigger.id,
        details: { name: trigger.name, secret: secret !== null },
      },
      now,
    );
    return { trigger, secret };
  }

  /** The organization's triggers (secrets are never listed). */
  async list(actor: Actor): Promise<TriggerRecord[]> {
    requireRole(actor, 'viewer');
    return this.store.listTriggers(actor.organizationId);
  }

  /** Replaces a trigger's secret with a new one, returned once. */
  async rotateSecret(actor: Actor, name: string): Promise<string> {
    requireRole(actor, 'operator');
    const secret = newSecret();
    if (!(await this.store.setSecret(actor.organizationId, name, secret))) throw notFound('trigger', name);
    await this.audit.record(
      { organizationId: actor.organizationId, actor: actor.label, action: 'trigger.rotate_secret', targetType: 'trigger', targetId: name },
      this.clock.now(),
    );
    return secret;
  }

  /** Deletes a trigger and its secret; commands keep their trigger name and still fire with an API key. */
  async remove(actor: Actor, name: string): Promise<void> {
    requireRole(actor, 'operator');
    if (!(await this.store.deleteTrigger(actor.organizationId, name))) throw notFound('trigger', name);
    await this.audit.record(
      { organizationId: actor.organizationId, actor: actor.label, action: 'trigger.delete', targetType: 'trigger', targetId: name },
      this.clock.now(),
    );
  }

  /**
   * Fires a trigger: every command of the caller's organization with this
   * trigger name launches at once, each on its own targets, with the body's
   * top-level keys as its environment. NOT_FOUND when no command has the name.
   */
  async fire(call: TriggerCall): Promise<TriggerOutcome> {
    const name = checkTriggerName(call.name, 'trigger');
    const actor = call.actor ?? (await this.signedActor(name, call));
    requireRole(actor, 'operator');
    const env = triggerEnv(call.body);
    const key =
      call.idempotencyKey === undefined
        ? undefined
        : { organizationId: actor.organizationId, triggerName: name, idempotencyKey: checkIdempotencyKey(call.idempotencyKey) };
    if (key) {
      const now = this.clock.now();
      const claim = await this.store.claimCall(key, now.toISOString(), new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString());
      if (!claim.claimed) {
        if (claim.result === null) throw new MusterError('CONFLICT', 'a call with this Idempotency-Key is still launching; retry in a moment');
        return { ...(JSON.parse(claim.result) as TriggerOutcome), replayed: true };
      }
    }
    try {
      const outcome = await this.launchAll(actor, name, env);
      if (key) await this.store.storeCallResult(key, JSON.stringify(outcome));
      return outcome;
    } catch (err) {
      if (key) await this.store.releaseCall(key);
      throw err;
    }
  }

  private async launchAll(actor: Actor, name: string, env: Record<string, string>): Promise<TriggerOutcome> {
    const commands = await this.scriptStore.listByTrigger(actor.organizationId, name);
    if (commands.length === 0) throw new MusterError('NOT_FOUND', `no command has the trigger ${name}`);
    const settled = await Promise.allSettled(
      commands.map(async (c) => {
        return (await this.scripts.launch(actor, c.id, { source: 'trigger', env })).job.id;
      }),
    );
    const outcome: TriggerOutcome = { triggered: [], jobs: [], skipped: [], replayed: false };
    settled.forEach((s, i) => {
      const commandId = commands[i]!.id;
      if (s.status === 'fulfilled') {
        outcome.triggered.push(commandId);
        outcome.jobs.push({ commandId, jobId: s.value });
      } else if (isMusterError(s.reason) && s.reason.code !== 'UNAVAILABLE') {
        outcome.skipped.push({ commandId, reason: s.reason.message });
      } else throw s.reason;
    });
    if (outcome.triggered.length === 0) {
      // A variable the job engine refuses (MUSTER_*) is the caller's mistake, named as such.
      const first = settled[0] as PromiseRejectedResult;
      if (isMusterError(first.reason) && first.reason.field?.startsWith('env.')) throw first.reason;
      throw invalid(
        'trigger',
        `${name} matches ${commands.length} command(s) but none could launch: ${outcome.skipped.map((s) => `${s.commandId}: ${s.reason}`).join('; ')}`,
      );
    }
    await this.audit.record(
      {
        organizationId: actor.organizationId,
        actor: actor.label,
        action: 'trigger.fire',
        targetType: 'trigger',
        targetId: name,
        details: { jobs: outcome.jobs.map((j) => j.jobId), skipped: outcome.skipped.length },
      },
      this.clock.now(),
    );
    return outcome;
  }

  /** The actor of a call signed with a trigger's secret: within 5 minutes, matching, and not seen before. */
  private async signedActor(name: string, call: TriggerCall): Promise<Actor> {
    if (call.signature === undefined)
      throw new MusterError('UNAUTHENTICATED', 'an API key (x-api-key) or a trigger signature (X-Muster-Signature) is required');
    const { t, v1 } = parseSignature(call.signature);
    const now = this.clock.now();
    if (Math.abs(now.getTime() / 1000 - t) > SIGNATURE_WINDOW_S)
      throw new MusterError('UNAUTHENTICATED', `the signature's timestamp is more than ${SIGNATURE_WINDOW_S} s from the server's clock`);
    const candidates = (await this.store.triggersWithSecret(name)).filter(
      (tr) => call.organizationId === undefined || tr.organizationId === call.organizationId,
    );
    const trigger = candidates.find((tr) => signatureMatches(tr.secret!, t, call.body ?? '', v1));
    if (!trigger) throw new MusterError('UNAUTHENTICATED', `the signature does not match trigger ${name}'s secret`);
    const digest = hash('sha256', `trigger:${trigger.id}:${v1}`, 'hex');
    const expires = new Date((t + 2 * SIGNATURE_WINDOW_S) * 1000).toISOString();
    if (!(await this.replay.remember(digest, expires, now.toISOString())))
      throw refusedCredential('this signed call was already received (replay)', {
        actor: `trigger:${trigger.id}`,
        organizationId: trigger.organizationId,
        verified: false,
      });
    return { organizationId: trigger.organizationId, role: 'operator', label: `trigger:${trigger.id}` };
  }
}

function newSecret(): string {
  return `mts_${randomBytes(24).toString('hex')}`;
}

function checkIdempotencyKey(value: string): string {
  if (!/^[\x21-\x7e]{1,255}$/.test(value)) throw invalid('Idempotency-Key', 'must be 1 to 255 printable ASCII characters');
  return value;
}
