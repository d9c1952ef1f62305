import type { EnrollmentKey, Group, System, User } from '../../api/native/index.js';
import type { GroupRecord } from '../../core/groups/index.js';
import type { EnrollmentKeyRecord } from '../../core/keys/index.js';
import type { SystemRecord } from '../../core/systems/index.js';
import type { SystemUserRecord } from '../../core/users/index.js';

/** Inventory records → the native API's snake_case shapes (typed by their wire schemas). */
export const inventoryView = {
  system: (s: SystemRecord): System => ({
    id: s.id,
    hostname: s.hostname,
    display_name: s.displayName,
    description: s.description,
    os: s.os,
    os_release: s.osRelease,
    arch: s.arch,
    kernel: s.kernel,
    agent_version: s.agentVersion,
    ip_addresses: s.ipAddresses,
    public_ip: s.publicIp,
    tags: s.tags,
    attributes: s.attributes,
    facts: s.facts,
    certname: s.certname,
    connected: s.connected,
    active: s.connected,
    first_contact: s.createdAt,
    last_contact: s.lastContact,
    created_at: s.createdAt,
  }),
  group: (g: GroupRecord): Group => ({ id: g.id, name: g.name, description: g.description, created_at: g.createdAt }),
  user: (u: SystemUserRecord): User => ({
    id: u.id,
    username: u.username,
    email: u.email,
    first_name: u.firstName,
    last_name: u.lastName,
    created_at: u.createdAt,
  }),
  enrollmentKey: (k: EnrollmentKeyRecord): EnrollmentKey => ({
    id: k.id,
    name: k.name,
    tags: k.tags,
    group_ids: k.groupIds,
    expires_at: k.expiresAt,
    max_uses: k.maxUses,
    uses: k.uses,
    prefix: k.prefix,
    created_at: k.createdAt,
    revoked_at: k.revokedAt,
  }),
};

/** Native snake_case system fields → core names (and back, for errors). */
export const NATIVE_SYSTEM_FIELDS: Record<string, string> = {
  id: 'id',
  hostname: 'hostname',
  display_name: 'displayName',
  description: 'description',
  os: 'os',
  os_release: 'osRelease',
  arch: 'arch',
  kernel: 'kernel',
  agent_version: 'agentVersion',
  ip_addresses: 'ipAddresses',
  public_ip: 'publicIp',
  tags: 'tags',
  attributes: 'attributes',
  certname: 'certname',
  facts: 'facts',
  connected: 'connected',
  active: 'active',
  first_contact: 'firstContact',
  last_contact: 'lastContact',
  created_at: 'createdAt',
};

/** Renames a body's keys with `map` (unknown keys kept, so core refuses them by name); returns the names for errors. */
export function toCoreFields(body: object | undefined, map: Record<string, string>): { input: Record<string, unknown>; names: Record<string, string> } {
  const input: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  for (const [key, value] of Object.entries(body ?? {})) {
    const core = map[key] ?? `unknown:${key}`;
    input[core] = value;
    names[core] = key;
  }
  return { input, names };
}
