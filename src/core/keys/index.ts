import { requireRole, isRole, type Actor, type Role } from '../access/index.js';
import type { AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { invalid, MusterError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { checkTags } from '../systems/validate.js';
import { digestsEqual, displayPrefix, generateSecret, hashSecret } from './secrets.js';
import type { ApiKeyRecord, EnrollmentKeyRecord, KeyStore } from './store.js';

export type { ApiKeyRecord, EnrollmentKeyRecord, KeyStore } from './store.js';
export { generateSecret, hashSecret, MIN_SECRET_LENGTH } from './secrets.js';

/** How often a key's last-used time is written at most: one write per key per minute, not per request. */
const TOUCH_INTERVAL_MS = 60_000;

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw invalid('name', 'must be a non-empty string');
  if (name.length > 100) throw invalid('name', 'must be at most 100 characters');
  return name.trim();
}

/** API keys and enrollment keys: created by admins, shown once, stored as hashes. */
export class KeyService {
  constructor(
    private readonly store: KeyStore,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
  ) {}

  /** Creates an API key; the secret is returned here and never again. */
  async createApiKey(actor: Actor, input: { name: unknown; role: unknown }, secret?: string): Promise<{ key: ApiKeyRecord; secret: string }> {
    requireRole(actor, 'admin');
    const name = checkName(input.name);
    if (!isRole(input.role)) throw invalid('role', 'must be one of admin, operator, viewer');
    return this.insertApiKey(actor.organizationId, name, input.role, actor.label, secret);
  }

  /** Inserts a key without a role check: for bootstrap and organization creation only. */
  async insertApiKey(organizationId: string, name: string, role: Role, by: string, secret = generateSecret('mk')): Promise<{ key: ApiKeyRecord; secret: string }> {
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

  async listApiKeys(actor: Actor): Promise<ApiKeyRecord[]> {
    requireRole(actor, 'admin');
    return this.store.listApiKeys(actor.organizationId);
  }

  async revokeApiKey(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    const now = this.clock.now();
    if (!(await this.store.revokeApiKey(actor.organizationId, id, now.toISOString()))) throw notFound('API key', id);
    await this.audit.record({ organizationId: actor.organizationId, actor: actor.label, action: 'api_key.revoke', targetType: 'api_key', targetId: id }, now);
  }

  /** Resolves a presented API key to an actor; UNAUTHENTICATED when unknown or revoked. */
  async authenticate(secret: string): Promise<Actor & { keyId: string }> {
    const hash = hashSecret(secret);
    const key = await this.store.findApiKeyByHash(hash);
    if (!key || !digestsEqual(key.secretHash, hash) || key.revokedAt) {
      throw new MusterError('UNAUTHENTICATED', 'the API key is not valid');
    }
    const now = this.clock.now();
    if (!key.lastUsedAt || now.getTime() - Date.parse(key.lastUsedAt) > TOUCH_INTERVAL_MS) {
      await this.store.touchApiKey(key.id, now.toISOString());
    }
    return { organizationId: key.organizationId, role: key.role, label: `api_key:${key.id}`, keyId: key.id };
  }

  /** Creates an enrollment key; agents present it once, to enroll. */
  async createEnrollmentKey(actor: Actor, input: { name: unknown; tags?: unknown }, secret?: string): Promise<{ key: EnrollmentKeyRecord; secret: string }> {
    requireRole(actor, 'admin');
    const name = checkName(input.name);
    const tags = checkTags(input.tags ?? []);
    return this.insertEnrollmentKey(actor.organizationId, name, tags, actor.label, secret);
  }

  /** Inserts an enrollment key without a role check: for bootstrap only. */
  async insertEnrollmentKey(organizationId: string, name: string, tags: string[], by: string, secret = generateSecret('mek')): Promise<{ key: EnrollmentKeyRecord; secret: string }> {
    const now = this.clock.now();
    const key: EnrollmentKeyRecord = {
      id: newId(),
      organizationId,
      name,
      tags,
      prefix: displayPrefix(secret),
      secretHash: hashSecret(secret),
      createdAt: now.toISOString(),
      revokedAt: null,
    };
    await this.store.insertEnrollmentKey(key);
    await this.audit.record({ organizationId, actor: by, action: 'enrollment_key.create', targetType: 'enrollment_key', targetId: key.id, details: { name } }, now);
    return { key, secret };
  }

  async listEnrollmentKeys(actor: Actor): Promise<EnrollmentKeyRecord[]> {
    requireRole(actor, 'admin');
    return this.store.listEnrollmentKeys(actor.organizationId);
  }

  async revokeEnrollmentKey(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    const now = this.clock.now();
    if (!(await this.store.revokeEnrollmentKey(actor.organizationId, id, now.toISOString()))) throw notFound('enrollment key', id);
    await this.audit.record({ organizationId: actor.organizationId, actor: actor.label, action: 'enrollment_key.revoke', targetType: 'enrollment_key', targetId: id }, now);
  }

  /** Resolves a presented enrollment key; UNAUTHENTICATED when unknown or revoked. */
  async resolveEnrollmentKey(secret: string): Promise<EnrollmentKeyRecord> {
    const hash = hashSecret(secret);
    const key = await this.store.findEnrollmentKeyByHash(hash);
    if (!key || !digestsEqual(key.secretHash, hash) || key.revokedAt) {
      throw new MusterError('UNAUTHENTICATED', 'the enrollment key is not valid');
    }
    return key;
  }
}
