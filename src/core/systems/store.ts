import type { AuditEvent } from '../audit/index.js';
import type { Selector } from '../selectors/index.js';

export interface SystemRecord {
  id: string;
  organizationId: string;
  hostname: string;
  displayName: string;
  os: string;
  osRelease: string;
  arch: string;
  kernel: string;
  agentVersion: string;
  ipAddresses: string[];
  publicIp: string | null;
  tags: string[];
  facts: Record<string, unknown>;
  /** Free text about the system (JumpCloud's description, BeyondTrust's comments). */
  description: string;
  /** Operator- or self-set key/value pairs. */
  attributes: Record<string, string>;
  /** The PuppetDB certname this system's facts arrive under; null means its hostname. */
  certname: string | null;
  publicKey: string;
  /** True while some replica holds a live presence lease (computed from `presence`). */
  connected: boolean;
  /** Which replica holds the agent's connection and until when; null when none ever did or it let go. */
  presence?: PresenceLease | null;
  /** Enrollment time, which is the system's first contact. */
  createdAt: string;
  lastContact: string | null;
}

/** A replica's hold on a system's agent connection: it counts until `expiresAt`. */
export interface PresenceLease {
  replicaId: string;
  expiresAt: string;
}

/** What may change on a system after enrollment (by an operator, or by the system itself). */
export interface SystemPatch {
  displayName?: string;
  /** Set by operators only; a system cannot re-point the facts that target it. */
  certname?: string | null;
  description?: string;
  tags?: string[];
  attributes?: Record<string, string>;
}

/** Fields a listing may filter and sort on. */
export const QUERY_FIELDS = [
  'id',
  'hostname',
  'displayName',
  'os',
  'osRelease',
  'arch',
  'agentVersion',
  'description',
  'createdAt',
  'lastContact',
  'connected',
  'tags',
] as const;
export type QueryField = (typeof QUERY_FIELDS)[number];

export interface SystemFilter {
  field: QueryField;
  op: 'eq' | 'ne' | 'contains' | 'in' | 'gt' | 'lt';
  values: string[];
}

/** A page of an organization's systems: filters (all must hold), sort keys, skip and limit. */
export interface SystemQuery {
  filters: SystemFilter[];
  sort: Array<{ field: QueryField; desc: boolean }>;
  skip: number;
  limit: number;
}

/** A newly enrolled system to write, with the groups it joins and its audit event. */
export interface EnrolledSystem {
  system: SystemRecord;
  groupIds: string[];
  audit: AuditEvent;
  at: Date;
}

/** What a page of systems may be sorted by. */
export const SYSTEM_SORTS = ['hostname', 'display_name', 'connected', 'last_contact', 'os', 'created_at'] as const;
export type SystemSort = (typeof SYSTEM_SORTS)[number];

/** A page of the systems a selector matches. */
export interface SystemPage {
  selector?: Selector;
  sort: SystemSort;
  desc: boolean;
  offset: number;
  limit: number;
}

/** Storage of systems (managed machines). */
export interface SystemStore {
  /** Inserts a system, with its tags, and joins the listed groups that still exist in its organization. */
  insertSystem(system: SystemRecord, groupIds?: string[]): Promise<void>;
  /** Inserts many systems as insertSystem does, each with its audit event, in one transaction (all or nothing). */
  insertEnrolled(items: EnrolledSystem[]): Promise<void>;
  getSystem(organizationId: string, id: string): Promise<SystemRecord | undefined>;
  /** Unscoped: only for authenticating a system by its own signature. */
  findSystemForAuth(id: string): Promise<{ organizationId: string; publicKey: string } | undefined>;
  listSystems(organizationId: string, selector?: Selector): Promise<SystemRecord[]>;
  /** One page of the systems a selector matches (all without one), in `sort` order then by id, and how many match in all; `connected` is judged at `now`. */
  pageSystems(organizationId: string, page: SystemPage, now: string): Promise<{ total: number; items: SystemRecord[] }>;
  /** A filtered, sorted page, and how many systems match in all; `connected` is judged at `now`. */
  querySystems(organizationId: string, query: SystemQuery, now: string): Promise<{ total: number; items: SystemRecord[] }>;
  /** Applies a patch (tags are mirrored to system_tags); false when the system is not in the organization. */
  updateSystem(organizationId: string, id: string, patch: SystemPatch): Promise<boolean>;
  /** Deletes the system and its memberships (its runs stay); false when it is not in the organization. */
  deleteSystem(organizationId: string, id: string): Promise<boolean>;
  /** Ids of the organization's systems a selector matches (evaluated in the database). */
  selectSystemIds(organizationId: string, selector: Selector): Promise<string[]>;
  /** The subset of `ids` that exist in the organization. */
  existingSystemIds(organizationId: string, ids: string[]): Promise<string[]>;
  allSystemIds(organizationId: string): Promise<string[]>;
  hostnames(ids: string[]): Promise<Map<string, string>>;
  /** Stores an agent's hello: its facts, and the lease of the replica that now holds its connection. */
  recordConnect(id: string, facts: AgentFactsInput, publicIp: string | null, at: string, lease: PresenceLease): Promise<void>;
  /** Stores facts reported on an open connection (no change to presence). */
  recordFacts(id: string, facts: AgentFactsInput, publicIp: string | null, at: string): Promise<void>;
  /** Ends the lease, only while `replicaId` still holds it (the agent may have moved to another replica). */
  recordDisconnect(id: string, replicaId: string, at: string): Promise<void>;
  /** Extends the leases these systems' holder has on them, and marks them seen at `at` (one statement a batch). */
  renewLeases(ids: string[], lease: PresenceLease, at: string): Promise<void>;
  /** Ends every lease one replica holds (its clean shutdown). */
  releaseReplica(replicaId: string, at: string): Promise<void>;
  /** Of these systems, those with a lease live at `now`, with the replica holding each. */
  holders(ids: string[], now: string): Promise<Map<string, string>>;
  /** At start of a single-node server: nobody is connected yet. */
  clearConnections(): Promise<void>;
  /** Records (or renews) where a replica's peers reach it, until `expiresAt`. */
  announcePeer(replicaId: string, peerUrl: string, expiresAt: string): Promise<void>;
  /** Where peers reach `replicaId`, while its announcement is live at `now`. */
  peerUrl(replicaId: string, now: string): Promise<string | undefined>;
  withdrawPeer(replicaId: string): Promise<void>;
}

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
  /** The interface each address is on (agents that predate it leave it out). */
  interfaces?: Array<{ name: string; address: string }> | undefined;
  agent_version: string;
}

/**
 * The enrollment keys a system enrolls with, as enrollment needs them (the
 * keys concept provides it): the key behind a secret, and one use counted.
 */
export interface EnrollmentKeys {
  resolveEnrollmentKey(secret: string): Promise<EnrollmentGrant>;
  consumeEnrollmentKey(key: EnrollmentGrant): Promise<void>;
}

/** What an enrollment key gives the system enrolling with it. */
export interface EnrollmentGrant {
  id: string;
  organizationId: string;
  tags: string[];
  groupIds: string[];
}
