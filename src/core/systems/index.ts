import { createPublicKey } from 'node:crypto';
import { requireRole, type Actor } from '../access/index.js';
import type { AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { invalid, notFound } from '../errors.js';
import { isId, newId } from '../ids.js';
import type { KeyService } from '../keys/index.js';
import { parseSelector } from '../selectors/index.js';
import type { SystemRecord, SystemStore } from './store.js';
import { checkTags } from './validate.js';

export type { SystemRecord, SystemStore } from './store.js';
export { checkTags } from './validate.js';

/** The facts an agent reports (validated by the protocol schema before they reach core). */
export interface AgentFactsInput {
  hostname: string;
  os: string;
  os_release: string;
  arch: string;
  kernel?: string | undefined;
  cpus?: number | undefined;
  memory_bytes?: number | undefined;
  uptime_s?: number | undefined;
  ip_addresses: string[];
  agent_version: string;
}

/**
 * A system is considered connected when its flag is set and it was seen within
 * this window: a replica that died without clearing its agents' flags stops
 * counting after 90 s (its agents reconnect elsewhere and set them again).
 */
const PRESENCE_WINDOW_MS = 90_000;

function checkPublicKey(pem: unknown): string {
  if (typeof pem !== 'string' || pem.length > 16_384) throw invalid('public_key', 'must be a PEM public key');
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

/** Managed machines: enrollment, presence, listing. */
export class SystemService {
  constructor(
    private readonly store: SystemStore,
    private readonly keys: KeyService,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
  ) {}

  /** Registers a machine presenting an enrollment key; returns its new record. */
  async enroll(enrollmentSecret: string, input: { public_key: unknown; facts: AgentFactsInput; tags?: unknown }, publicIp: string | null): Promise<SystemRecord> {
    const key = await this.keys.resolveEnrollmentKey(enrollmentSecret);
    const publicKey = checkPublicKey(input.public_key);
    const tags = [...new Set([...key.tags, ...checkTags(input.tags ?? [])])];
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
      publicKey,
      connected: false,
      createdAt: now,
      lastContact: now,
    };
    await this.store.insertSystem(system);
    await this.audit.record(
      { organizationId: key.organizationId, actor: `enrollment_key:${key.id}`, action: 'system.enroll', targetType: 'system', targetId: system.id, details: { hostname: f.hostname } },
      this.clock.now(),
    );
    return system;
  }

  /** The organization's systems, optionally only those a selector matches. */
  async list(actor: Actor, select?: string): Promise<SystemRecord[]> {
    requireRole(actor, 'viewer');
    const selector = select === undefined ? undefined : parseSelector(select);
    return (await this.store.listSystems(actor.organizationId, selector)).map((s) => this.withPresence(s));
  }

  async get(actor: Actor, id: string): Promise<SystemRecord> {
    requireRole(actor, 'viewer');
    const system = isId(id) ? await this.store.getSystem(actor.organizationId, id) : undefined;
    if (!system) throw notFound('system', id);
    return this.withPresence(system);
  }

  /** For signature verification: the key a system signs with, or undefined when it does not exist. */
  async credentialsFor(id: string): Promise<{ organizationId: string; publicKey: string } | undefined> {
    return /^\w{1,64}$/.test(id) ? this.store.findSystemForAuth(id) : undefined;
  }

  async agentConnected(id: string, facts: AgentFactsInput, publicIp: string | null): Promise<void> {
    await this.store.recordConnect(id, facts, publicIp, this.clock.now().toISOString());
  }

  async agentDisconnected(id: string): Promise<void> {
    await this.store.recordDisconnect(id, this.clock.now().toISOString());
  }

  async agentsSeen(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.store.touchSystems(ids, this.clock.now().toISOString());
  }

  private withPresence(system: SystemRecord): SystemRecord {
    const fresh = system.lastContact !== null && this.clock.now().getTime() - Date.parse(system.lastContact) < PRESENCE_WINDOW_MS;
    return { ...system, connected: system.connected && fresh };
  }
}
