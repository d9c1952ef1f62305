import { requireRole, type Actor } from '../access/index.js';
import type { AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { invalid, MusterError } from '../errors.js';
import { newId } from '../ids.js';
import { MIN_SECRET_LENGTH, type KeyService } from '../keys/index.js';

export interface OrganizationRecord {
  id: string;
  slug: string;
  name: string;
  createdAt: string;
}

export interface OrganizationStore {
  /** Inserts; returns false when the slug is taken (another replica won the race). */
  insertOrganization(org: OrganizationRecord): Promise<boolean>;
  findOrganizationBySlug(slug: string): Promise<OrganizationRecord | undefined>;
  getOrganization(id: string): Promise<OrganizationRecord | undefined>;
}

export const DEFAULT_SLUG = 'default';

export interface BootstrapResult {
  organization: OrganizationRecord;
  /** Present only when this call created the installation: shown once, then only hashes remain. */
  created?: { apiKey: string; enrollmentKey: string };
}

/** Organizations (tenants). The default one is made at first start; its admins may create others. */
export class OrganizationService {
  constructor(
    private readonly store: OrganizationStore,
    private readonly keys: KeyService,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
  ) {}

  /**
   * First start: creates the default organization with an admin API key and an
   * enrollment key (given explicitly, or generated). An existing installation
   * keeps its keys. Safe when several replicas start at once on one database.
   */
  async bootstrap(explicit: { apiKey?: string | undefined; enrollmentKey?: string | undefined }): Promise<BootstrapResult> {
    for (const [field, value] of [
      ['MUSTER_BOOTSTRAP_API_KEY', explicit.apiKey],
      ['MUSTER_BOOTSTRAP_ENROLLMENT_KEY', explicit.enrollmentKey],
    ] as const) {
      if (value !== undefined && value.length < MIN_SECRET_LENGTH) throw invalid(field, `must be at least ${MIN_SECRET_LENGTH} characters`);
    }
    const existing = await this.store.findOrganizationBySlug(DEFAULT_SLUG);
    if (existing) return { organization: existing };
    const organization: OrganizationRecord = { id: newId(), slug: DEFAULT_SLUG, name: 'Default', createdAt: this.clock.now().toISOString() };
    if (!(await this.store.insertOrganization(organization))) {
      const winner = await this.store.findOrganizationBySlug(DEFAULT_SLUG);
      if (!winner) throw new MusterError('UNAVAILABLE', 'the default organization vanished during bootstrap');
      return { organization: winner };
    }
    const apiKey = await this.keys.insertApiKey(organization.id, 'bootstrap admin', 'admin', 'system:bootstrap', explicit.apiKey);
    const enrollment = await this.keys.insertEnrollmentKey(organization.id, 'bootstrap', [], 'system:bootstrap', explicit.enrollmentKey);
    return { organization, created: { apiKey: apiKey.secret, enrollmentKey: enrollment.secret } };
  }

  async get(actor: Actor): Promise<OrganizationRecord> {
    const org = await this.store.getOrganization(actor.organizationId);
    if (!org) throw new MusterError('UNAUTHENTICATED', 'the organization of this key no longer exists');
    return org;
  }

  /** Creates a tenant with its first admin key. Only admins of the default organization may. */
  async create(actor: Actor, input: { name: unknown; slug: unknown }): Promise<{ organization: OrganizationRecord; apiKey: string }> {
    requireRole(actor, 'admin');
    const own = await this.get(actor);
    if (own.slug !== DEFAULT_SLUG) throw new MusterError('FORBIDDEN', 'only admins of the default organization can create organizations');
    if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 100) throw invalid('name', 'must be 1–100 characters');
    if (typeof input.slug !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(input.slug))
      throw invalid('slug', 'must be 1–63 lower-case letters, digits or dashes');
    const now = this.clock.now();
    const organization: OrganizationRecord = { id: newId(), slug: input.slug, name: input.name.trim(), createdAt: now.toISOString() };
    if (!(await this.store.insertOrganization(organization))) throw new MusterError('CONFLICT', `organization ${input.slug} already exists`, { field: 'slug' });
    await this.audit.record(
      { organizationId: own.id, actor: actor.label, action: 'organization.create', targetType: 'organization', targetId: organization.id },
      now,
    );
    const { secret } = await this.keys.insertApiKey(organization.id, 'first admin', 'admin', actor.label);
    return { organization, apiKey: secret };
  }
}
