import { requireRole, isRole, type Actor, type Role } from '../access/index.js';
import { refusedCredential, type AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { invalid, MusterError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { checkTags } from '../systems/index.js';
import { digestsEqual, displayPrefix, generateSecret, hashSecret } from './secrets.js';
import type { ApiKeyRecord, EnrollmentKeyRecord, KeyStore } from './store.js';

export type { ApiKeyRecord, EnrollmentKeyRecord, KeyStore } from './store.js';

/** Group ids or names → ids, within an organization. */
export type GroupResolver = (organizationId: string, refs: string[]) => Promise<string[]>;

/** What an enrollment key carries besides its name. */
export interface EnrollmentKeyOptions {
  tags?: string[];
  groupIds?: string[];
  expiresAt?: string | null;
  maxUses?: number | null;
}
export { generateSecret, hashSecret, MIN_SECRET_LENGTH } from './secrets.js';

/** How often a key's last-used time is written at most: one write per key per minute, not per request. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * How long a verified API key is trusted without reading it again. Every
 * request presents its key, and on SQLite the read waited behind whatever
 * write transaction held the one connection (measured: most of a PuppetDB
 * submission's latency). A key revoked through this process stops at once;
 * revoked through another replica, within this time.
 */
export const API_KEY_CACHE_MS = 5_000;
const API_KEY_CACHE_ENTRIES = 1_000;

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw invalid('name', 'must be a non-empty string');
  if (name.length > 100) throw invalid('name', 'must be at most 100 characters');
  return name.trim();
}

/** API keys and enrollment keys: created by admins, shown once, stored as hashes. */
export class KeyService {
  /** API keys verified lately, by secret hash (see API_KEY_CACHE_MS). */
  private readonly verified = new Map<string, { key: ApiKeyRecord; until: number }>();

  constructor(
    private readonly store: KeyStore,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
    /** Resolves group ids or names to ids in an organization (NOT_FOUND naming the field); wired by createCore. */
    private readonly resolveGroups: GroupResolver = async (_org, refs) => (refs.length ? Promise.reject(invalid('groups', 'groups are not available')) : []),
  ) {}

  /** Creates an API key; the secret is returned here and never again. */
  async createApiKey(actor: Actor, input: { name: unknown; role: unknown }, secret?: string): Promise<{ key: ApiKeyRecord; secret: string }> {
    requireRole(actor, 'admin');
    const name = checkName(input.name);
    if (!isRole(input.role)) throw invalid('role', 'must be one of admin, operator, viewer');
    return this.insertApiKey(actor.organizationId, name, input.role, actor.label, secret);
  }

  /** Inserts a key without a role check: for bootstrap and organization creation only. */
  async insertApiKey(
    organizationId: string,
    name: string,
    role: Role,
    by: string,
    secret = generateSecret('mk'),
  ): Promise<{ key: ApiKeyRecord; secret: string }> {
    const now = this.clock.now();
    const key: ApiKeyRecord = {
      id: newId(),
      organizationId,
      name,
      role,
      prefix: displayPrefix(secret),
      secretHash: hashSecret(secret),
      createdAt: now.toISOString(),
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.store.insertApiKey(key);
    await this.audit.record({ organizationId, actor: by, action: 'api_key.create', targetType: 'api_key', targetId: key.id, details: { name, role } }, now);
    return { key, secret };
  }

  /** The organization's API keys (hashes stay inside). */
  async listApiKeys(actor: Actor): Promise<ApiKeyRecord[]> {
    requireRole(actor, 'admin');
    return this.store.listApiKeys(actor.organizationId);
  }

  /** Revokes an API key; NOT_FOUND when not in the organization or already revoked. */
  async revokeApiKey(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    const now = this.clock.now();
    if (!(await this.store.revokeApiKey(actor.organizationId, id, now.toISOString()))) throw notFound('API key', id);
    for (const [hash, { key }] of this.verified) if (key.id === id) this.verified.delete(hash);
    await this.audit.record({ organizationId: actor.organizationId, actor: actor.label, action: 'api_key.revoke', targetType: 'api_key', targetId: id }, now);
  }

  /** Resolves a presented API key to an actor; UNAUTHENTICATED when unknown or revoked. */
  async authenticate(secret: string): Promise<Actor & { keyId: string }> {
    const hash = hashSecret(secret);
    const now = this.clock.now();
    const cached = this.verified.get(hash);
    const key = cached && cached.until > now.getTime() ? cached.key : await this.store.findApiKeyByHash(hash);
    if (!key || !digestsEqual(key.secretHash, hash) || key.revokedAt) {
      this.verified.delete(hash);
      // A revoked key's holder proved the secret: its organization's audit log says which key was refused.
      if (key?.revokedAt && digestsEqual(key.secretHash, hash))
        throw refusedCredential('the API key is not valid', {
          actor: `api_key:${key.id}`,
          organizationId: key.organizationId,
          verified: true,
          reason: 'the API key is revoked',
        });
      throw new MusterError('UNAUTHENTICATED', 'the API key is not valid');
    }
    if (key !== cached?.key) {
      if (this.verified.size >= API_KEY_CACHE_ENTRIES) this.verified.clear();
      this.verified.set(hash, { key, until: now.getTime() + API_KEY_CACHE_MS });
    }
    if (!key.lastUsedAt || now.getTime() - Date.parse(key.lastUsedAt) > TOUCH_INTERVAL_MS) {
      key.lastUsedAt = now.toISOString();
      await this.store.touchApiKey(key.id, key.lastUsedAt);
    }
    return { organizationId: key.organizationId, role: key.role, label: `api_key:${key.id}`, keyId: key.id };
  }

  /** Creates an enrollment key; agents present it once, to enroll. Optional: tags, groups to join, expiry, maximum uses. */
  async createEnrollmentKey(
    actor: Actor,
    input: { name: unknown; tags?: unknown; groups?: unknown; expires_at?: unknown; max_uses?: unknown },
    secret?: string,
  ): Promise<{ key: EnrollmentKeyRecord; secret: string }> {
    requireRole(actor, 'admin');
    const name = checkName(input.name);
    const tags = checkTags(input.tags ?? []);
    const groupIds = await this.resolveGroups(actor.organizationId, checkRefs(input.groups ?? []));
    const expiresAt = checkExpiry(input.expires_at ?? null, this.clock.now());
    if (input.max_uses !== undefined && input.max_uses !== null && (!Number.isInteger(input.max_uses) || (input.max_uses as number) < 1)) {
      throw invalid('max_uses', 'must be a positive integer');
    }
    const maxUses = (input.max_uses as number | null | undefined) ?? null;
    return this.insertEnrollmentKey(actor.organizationId, name, { tags, groupIds, expiresAt, maxUses }, actor.label, secret);
  }

  /** Inserts an enrollment key without a role check: for bootstrap only. */
  async insertEnrollmentKey(
    organizationId: string,
    name: string,
    options: EnrollmentKeyOptions | string[],
    by: string,
    secret = generateSecret('mek'),
  ): Promise<{ key: EnrollmentKeyRecord; secret: string }> {
    const o: EnrollmentKeyOptions = Array.isArray(options) ? { tags: options } : options;
    const now = this.clock.now();
    const key: EnrollmentKeyRecord = {
      id: newId(),
      organizationId,
      name,
      tags: o.tags ?? [],
      prefix: displayPrefix(secret),
      secretHash: hashSecret(secret),
      createdAt: now.toISOString(),
      revokedAt: null,
      groupIds: o.groupIds ?? [],
      expiresAt: o.expiresAt ?? null,
      maxUses: o.maxUses ?? null,
      uses: 0,
    };
    await this.store.insertEnrollmentKey(key);
    await this.audit.record(
      { organizationId, actor: by, action: 'enrollment_key.create', targetType: 'enrollment_key', targetId: key.id, details: { name } },
      now,
    );
    return { key, secret };
  }

  /** The organization's enrollment keys, with their options and uses. */
  async listEnrollmentKeys(actor: Actor): Promise<EnrollmentKeyRecord[]> {
    requireRole(actor, 'admin');
    return this.store.listEnrollmentKeys(actor.organizationId);
  }

  /** Revokes an enrollment key: it enrolls no more systems. */
  async revokeEnrollmentKey(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    const now = this.clock.now();
    if (!(await this.store.revokeEnrollmentKey(actor.organizationId, id, now.toISOString()))) throw notFound('enrollment key', id);
    await this.audit.record(
      { organizationId: actor.organizationId, actor: actor.label, action: 'enrollment_key.revoke', targetType: 'enrollment_key', targetId: id },
      now,
    );
  }

  /** Resolves a presented enrollment key; UNAUTHENTICATED when unknown, revoked, expired or used up. */
  async resolveEnrollmentKey(secret: string): Promise<EnrollmentKeyRecord> {
    const hash = hashSecret(secret);
    const key = await this.store.findEnrollmentKeyByHash(hash);
    if (!key || !digestsEqual(key.secretHash, hash)) throw new MusterError('UNAUTHENTICATED', 'the enrollment key is not valid');
    const claim = { actor: `enrollment_key:${key.id}`, organizationId: key.organizationId, verified: true };
    if (key.revokedAt) throw refusedCredential('the enrollment key is not valid', { ...claim, reason: 'the enrollment key is revoked' });
    if (key.expiresAt !== null && Date.parse(key.expiresAt) <= this.clock.now().getTime()) throw refusedCredential('the enrollment key has expired', claim);
    if (key.maxUses !== null && key.uses >= key.maxUses) throw refusedCredential('the enrollment key has no uses left', claim);
    return key;
  }

  /** Counts one enrollment against the key; UNAUTHENTICATED when another enrollment took its last use. */
  async consumeEnrollmentKey(key: EnrollmentKeyRecord): Promise<void> {
    if (!(await this.store.consumeEnrollmentKey(key.id))) throw new MusterError('UNAUTHENTICATED', 'the enrollment key has no uses left');
  }
}

function checkRefs(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 50 || value.some((v) => typeof v !== 'string' || v === '' || v.length > 100)) {
    throw invalid('groups', 'must be an array of at most 50 group ids or names');
  }
  return [...new Set(value as string[])];
}

function checkExpiry(value: unknown, now: Date): string | null {
  if (value === null) return null;
  const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) throw invalid('expires_at', 'must be an ISO-8601 date-time');
  if (at <= now.getTime()) throw invalid('expires_at', 'must be in the future');
  return new Date(at).toISOString();
}
