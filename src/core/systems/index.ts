import { createPublicKey } from 'node:crypto';
import { requireRole, type Actor } from '../access/index.js';
import { stampRequest, type AuditSink } from '../audit/index.js';
import { BatchWriter } from '../batch-writer.js';
import type { Clock } from '../clock.js';
import { invalid, notFound } from '../errors.js';
import { isId, newId } from '../ids.js';
import { parseSelector } from '../selectors/index.js';
import { authorizeOnSystem, callerLabel, isSystemPrincipal, type Caller } from './principal.js';
import {
  SYSTEM_SORTS,
  type AgentFactsInput,
  type EnrolledSystem,
  type EnrollmentKeys,
  type SystemQuery,
  type SystemRecord,
  type SystemSort,
  type SystemStore,
} from './store.js';
import { checkPaging, checkSystemPatch, checkTags } from './validate.js';

export type {
  AgentFactsInput,
  EnrolledSystem,
  EnrollmentGrant,
  EnrollmentKeys,
  PresenceLease,
  SystemFilter,
  SystemPage,
  SystemSort,
  SystemPatch,
  SystemQuery,
  SystemRecord,
  SystemStore,
  QueryField,
} from './store.js';
export { QUERY_FIELDS, SYSTEM_SORTS } from './store.js';
export { networkInterfaces, type NetworkInterface } from './interfaces.js';
export { checkAttributes, checkTags, checkSystemPatch } from './validate.js';
export { authorizeOnSystem, isSystemPrincipal, requireActor, callerLabel, type Caller, type SystemPrincipal } from './principal.js';

/** Called after a system is deleted (e.g. to close its agent's connection). */
export type SystemRemovedListener = (systemId: string, system: SystemRecord) => void;

/**
 * How long a replica's hold on an agent connection counts without renewal: a
 * replica that died without releasing its leases stops counting after 90 s
 * (its agents reconnect elsewhere, whose leases replace them). Holders renew
 * at a third of it, so one missed renewal does not drop a live agent.
 */
export const DEFAULT_LEASE_MS = 90_000;

/** Who holds an agent connection: a replica, and how long each renewal of its lease lasts. */
export interface PresenceHold {
  replicaId: string;
  leaseMs: number;
}

/** Enrollments per transaction at most: each writes a system row, its tags and an audit event. */
const ENROLL_BATCH = 500;

/** The hold of a server that runs alone and never names itself. */
const LOCAL_HOLD: PresenceHold = Object.freeze({ replicaId: 'local', leaseMs: DEFAULT_LEASE_MS });

/**
 * An Ed25519 public key as every agent writes it: SPKI PEM, its DER the fixed
 * 12-byte prefix (`MCowBQYDK2VwAyEA` in base64) and the 32-byte key, encoded
 * canonically (the last character before the padding carries no stray bits).
 */
const ED25519_SPKI_PEM = /^-----BEGIN PUBLIC KEY-----\r?\nMCowBQYDK2VwAyEA[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\r?\n-----END PUBLIC KEY-----\r?\n?$/;

function checkPublicKey(pem: unknown): string {
  if (typeof pem !== 'string' || pem.length > 16_384) throw invalid('public_key', 'must be a PEM public key');
  // Fast path: createPublicKey (OpenSSL 3's decoder) took 116-367 µs a key on the bench machine, this
  // test 1.3 µs. Any 32 bytes are a key createPublicKey accepts; every other key still goes through it.
  if (ED25519_SPKI_PEM.test(pem)) return pem;
  let type: string | undefined;
  let bits: number | undefined;
  try {
    const key = createPublicKey(pem);
    type = key.asymmetricKeyType;
    bits = key.asymmetricKeyDetails?.modulusLength;
  } catch {
    throw invalid('public_key', 'is not a valid PEM public key');
  }
  if (type === 'ed25519' || (type === 'rsa' && (bits ?? 0) >= 2048)) return pem;
  throw invalid('public_key', 'must be an RSA key of at least 2048 bits or an Ed25519 key');
}

/** Managed machines: enrollment, presence, listing, changes by operators and by the systems themselves. */
export class SystemService {
  private readonly removedListeners: SystemRemovedListener[] = [];
  private readonly enrolledListeners: Array<(system: SystemRecord) => Promise<void>> = [];
  private readonly factsListeners: Array<(system: SystemRecord, facts: AgentFactsInput) => Promise<void>> = [];

  /**
   * Enrolled systems arriving together are written in one transaction, each
   * with its audit event (group commit): a fleet enrolling at once costs a
   * commit per batch, not two per machine. enroll() answers once its batch
   * has committed.
   */
  private readonly enrollments: BatchWriter<EnrolledSystem, undefined>;

  constructor(
    private readonly store: SystemStore,
    private readonly keys: EnrollmentKeys,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
  ) {
    this.enrollments = new BatchWriter(
      async (items) => {
        await store.insertEnrolled(items);
        return items.map(() => undefined);
      },
      ENROLL_BATCH,
      2,
    );
  }

  /** Registers a listener for newly enrolled systems (run-on-enroll); awaited before enroll returns, it must not throw. */
  onEnrolled(listener: (system: SystemRecord) => Promise<void>): void {
    this.enrolledListeners.push(listener);
  }

  /** Registers a listener for deleted systems (the composition root closes their connections). */
  onRemoved(listener: SystemRemovedListener): void {
    this.removedListeners.push(listener);
  }

  /**
   * Registers a machine presenting an enrollment key; returns its new record.
   * The key's tags are added and its groups joined; one use of the key is counted.
   */
  async enroll(
    enrollmentSecret: string,
    input: { public_key: unknown; facts: AgentFactsInput; tags?: unknown },
    publicIp: string | null,
  ): Promise<SystemRecord> {
    const key = await this.keys.resolveEnrollmentKey(enrollmentSecret);
    const publicKey = checkPublicKey(input.public_key);
    const tags = [...new Set([...key.tags, ...checkTags(input.tags ?? [])])];
    if (tags.length > 50) throw invalid('tags', "must hold at most 50 tags (with the enrollment key's)");
    await this.keys.consumeEnrollmentKey(key);
    const now = this.clock.now().toISOString();
    const f = input.facts;
    const system: SystemRecord = {
      id: newId(),
      organizationId: key.organizationId,
      hostname: f.hostname,
      displayName: f.hostname,
      os: f.os,
      osRelease: f.os_release,
      arch: f.arch,
      kernel: f.kernel ?? '',
      agentVersion: f.agent_version,
      ipAddresses: f.ip_addresses,
      publicIp,
      tags,
      facts: { ...f },
      description: '',
      attributes: {},
      certname: null,
      publicKey,
      connected: false,
      createdAt: now,
      lastContact: now,
    };
    // Stamped now: the batch that writes it may be flushed in another request's turn.
    const audit = stampRequest({
      organizationId: key.organizationId,
      actor: `enrollment_key:${key.id}`,
      action: 'system.enroll',
      targetType: 'system',
      targetId: system.id,
      details: { hostname: f.hostname },
    });
    await this.enrollments.submit({ system, groupIds: key.groupIds, audit, at: this.clock.now() });
    for (const listener of this.enrolledListeners) await listener(system);
    return system;
  }

  /** The organization's systems, optionally only those a selector matches. */
  async list(actor: Actor, select?: string): Promise<SystemRecord[]> {
    requireRole(actor, 'viewer');
    const selector = select === undefined ? undefined : parseSelector(select);
    return (await this.store.listSystems(actor.organizationId, selector)).map((s) => this.withPresence(s));
  }

  /**
   * A page of the systems a selector matches: `sort` is a field of
   * SYSTEM_SORTS, `-` first for descending (default `hostname`); `cursor` is
   * the `next_cursor` of the page before. Answers the page, how many match in
   * all, and the next page's cursor (null after the last).
   */
  async page(
    actor: Actor,
    input: { select?: string | undefined; sort?: string | undefined; limit: number; cursor?: string | undefined },
  ): Promise<{ total: number; items: SystemRecord[]; nextCursor: string | null }> {
    requireRole(actor, 'viewer');
    if (!Number.isInteger(input.limit) || input.limit < 1 || input.limit > 1000) throw invalid('limit', 'must be an integer from 1 to 1000');
    const sortText = input.sort ?? 'hostname';
    const sort = sortText.replace(/^-/, '');
    if (!(SYSTEM_SORTS as readonly string[]).includes(sort)) throw invalid('sort', `must be one of ${SYSTEM_SORTS.join(', ')}, with - first for descending`);
    const offset = input.cursor === undefined ? 0 : Number(input.cursor);
    if (!/^\d{1,9}$/.test(input.cursor ?? '0')) throw invalid('cursor', 'must be the next_cursor of a previous page');
    const selector = input.select === undefined ? undefined : parseSelector(input.select);
    const page = await this.store.pageSystems(
      actor.organizationId,
      { ...(selector ? { selector } : {}), sort: sort as SystemSort, desc: sortText.startsWith('-'), offset, limit: input.limit },
      this.clock.now().toISOString(),
    );
    const next = offset + page.items.length;
    return { total: page.total, items: page.items.map((s) => this.withPresence(s)), nextCursor: next < page.total ? String(next) : null };
  }

  /** A filtered, sorted page of the organization's systems, with the total that match. */
  async query(actor: Actor, query: SystemQuery): Promise<{ total: number; items: SystemRecord[] }> {
    requireRole(actor, 'viewer');
    const page = await this.store.querySystems(actor.organizationId, checkPaging(query), this.clock.now().toISOString());
    return { total: page.total, items: page.items.map((s) => this.withPresence(s)) };
  }

  /** One system; a system may read its own record. */
  async get(caller: Caller, id: string): Promise<SystemRecord> {
    const organizationId = authorizeOnSystem(caller, id, 'viewer');
    const system = isId(id) ? await this.store.getSystem(organizationId, id) : undefined;
    if (!system) throw notFound('system', id);
    return this.withPresence(system);
  }

  /**
   * Changes a system's display name, description, tags or attributes (fields
   * in core names; `names` maps them to the caller's, for errors). A system
   * may change its own record; an operator any system of the organization.
   */
  async update(caller: Caller, id: string, input: Record<string, unknown>, names: Record<string, string> = {}): Promise<SystemRecord> {
    const organizationId = authorizeOnSystem(caller, id, 'operator');
    const patch = checkSystemPatch(input, names, isSystemPrincipal(caller));
    if (!isId(id) || !(await this.store.updateSystem(organizationId, id, patch))) throw notFound('system', id);
    await this.audit.record(
      { organizationId, actor: callerLabel(caller), action: 'system.update', targetType: 'system', targetId: id, details: { ...patch } },
      this.clock.now(),
    );
    return this.get(caller, id);
  }

  /**
   * Deletes a system: its key stops working, its memberships go, its runs stay
   * for audit, and listeners close its agent's connection. A system may delete
   * itself; otherwise an admin. Returns the record as it was.
   */
  async remove(caller: Caller, id: string): Promise<SystemRecord> {
    const organizationId = authorizeOnSystem(caller, id, 'admin');
    const system = isId(id) ? await this.store.getSystem(organizationId, id) : undefined;
    if (!system || !(await this.store.deleteSystem(organizationId, id))) throw notFound('system', id);
    await this.audit.record(
      { organizationId, actor: callerLabel(caller), action: 'system.delete', targetType: 'system', targetId: id, details: { hostname: system.hostname } },
      this.clock.now(),
    );
    for (const listener of this.removedListeners) listener(id, system);
    return { ...this.withPresence(system), connected: false };
  }

  /** For signature verification: the key a system signs with, or undefined when it does not exist. */
  async credentialsFor(id: string): Promise<{ organizationId: string; publicKey: string } | undefined> {
    return /^\w{1,64}$/.test(id) ? this.store.findSystemForAuth(id) : undefined;
  }

  /** An agent said hello: store its facts and address; `hold`'s replica takes the system's presence lease. */
  async agentConnected(id: string, facts: AgentFactsInput, publicIp: string | null, hold: PresenceHold = LOCAL_HOLD): Promise<void> {
    const now = this.clock.now();
    await this.store.recordConnect(id, facts, publicIp, now.toISOString(), this.lease(hold, now));
    await this.factsReported(id, facts);
  }

  /** A connected agent reported fresh facts (it does so periodically). */
  async agentFacts(id: string, facts: AgentFactsInput, publicIp: string | null): Promise<void> {
    await this.store.recordFacts(id, facts, publicIp, this.clock.now().toISOString());
    await this.factsReported(id, facts);
  }

  /** Calls `listener` with each fact report an agent makes (the ingest path takes them as "replace facts"). */
  onFactsReported(listener: (system: SystemRecord, facts: AgentFactsInput) => Promise<void>): void {
    this.factsListeners.push(listener);
  }

  private async factsReported(id: string, facts: AgentFactsInput): Promise<void> {
    if (this.factsListeners.length === 0) return;
    const auth = await this.store.findSystemForAuth(id);
    const system = auth ? await this.store.getSystem(auth.organizationId, id) : undefined;
    if (!system) return;
    for (const listener of this.factsListeners) await listener(system, facts);
  }

  /** The agent's connection to `replicaId` closed: its lease ends (unless another replica holds it now); its last contact stays. */
  async agentDisconnected(id: string, replicaId: string = LOCAL_HOLD.replicaId): Promise<void> {
    await this.store.recordDisconnect(id, replicaId, this.clock.now().toISOString());
  }

  /** The agents still connected to `hold`'s replica are alive: their leases run on, their last contact is now. */
  async renewPresence(ids: string[], hold: PresenceHold = LOCAL_HOLD): Promise<void> {
    const now = this.clock.now();
    if (ids.length > 0) await this.store.renewLeases(ids, this.lease(hold, now), now.toISOString());
  }

  /** A replica shuts down cleanly: every lease it holds ends now, instead of when it would expire. */
  async releaseReplica(replicaId: string): Promise<void> {
    await this.store.releaseReplica(replicaId, this.clock.now().toISOString());
  }

  /** Tells the other replicas where to reach this one (a session opened through them for an agent held here), for `leaseMs`. */
  async announcePeer(replicaId: string, peerUrl: string, leaseMs: number): Promise<void> {
    await this.store.announcePeer(replicaId, peerUrl, new Date(this.clock.now().getTime() + leaseMs).toISOString());
  }

  /** Where a live replica's peers reach it; undefined when it has not announced itself or its announcement lapsed. */
  async peerUrl(replicaId: string): Promise<string | undefined> {
    return this.store.peerUrl(replicaId, this.clock.now().toISOString());
  }

  /** A replica stopping: peers stop looking for it at once. */
  async withdrawPeer(replicaId: string): Promise<void> {
    await this.store.withdrawPeer(replicaId);
  }

  /** Of these systems, the connected ones, with the replica holding each (to wake only that replica). */
  async holders(ids: string[]): Promise<Map<string, string>> {
    return ids.length === 0 ? new Map() : this.store.holders(ids, this.clock.now().toISOString());
  }

  private lease(hold: PresenceHold, now: Date): { replicaId: string; expiresAt: string } {
    return { replicaId: hold.replicaId, expiresAt: new Date(now.getTime() + hold.leaseMs).toISOString() };
  }

  private withPresence(system: SystemRecord): SystemRecord {
    const live = system.presence != null && Date.parse(system.presence.expiresAt) > this.clock.now().getTime();
    return { ...system, connected: live };
  }
}
