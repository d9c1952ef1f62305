import type { Generated } from 'kysely';

/**
 * The database schema as Kysely sees it. Portable types only: text, integer
 * (booleans are 0/1 — better-sqlite3 cannot bind booleans), ISO-8601 text
 * timestamps (always `Date.toISOString()`, so they sort as text), JSON as text.
 */
export interface OrganizationTable {
  id: string;
  slug: string;
  name: string;
  created_at: string;
}

export interface ApiKeyTable {
  id: string;
  organization_id: string;
  name: string;
  role: string;
  prefix: string;
  secret_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface EnrollmentKeyTable {
  id: string;
  organization_id: string;
  name: string;
  tags: string;
  prefix: string;
  secret_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface SystemTable {
  id: string;
  organization_id: string;
  hostname: string;
  display_name: string;
  os: string;
  os_release: string;
  arch: string;
  kernel: string;
  agent_version: string;
  ip_addresses: string;
  public_ip: string | null;
  tags: string;
  facts: string;
  public_key: string;
  connected: number;
  created_at: string;
  last_contact: string | null;
  description: Generated<string>;
}

export interface SystemTagTable {
  system_id: string;
  tag: string;
}

export interface GroupTable {
  id: string;
  organization_id: string;
  name: string;
  description: string;
  created_at: string;
}

export interface GroupMemberTable {
  group_id: string;
  system_id: string;
}

export interface JobTable {
  id: string;
  organization_id: string;
  source: string;
  shell: string;
  content: string;
  env: string;
  timeout_s: number;
  total: number;
  created_by: string;
  created_at: string;
  finished_at: string | null;
  selector: string | null;
  run_as: string | null;
  max_concurrency: number | null;
  max_errors: number | null;
  ttl_s: Generated<number>;
  in_flight: Generated<number>;
  errors: Generated<number>;
  stopped_reason: string | null;
  retry_of: string | null;
  script_id: string | null;
}

export interface RunTable {
  id: string;
  job_id: string;
  organization_id: string;
  system_id: string;
  state: string;
  exit_code: number | null;
  signal: string | null;
  reason: string | null;
  stdout: Generated<string>;
  stderr: Generated<string>;
  stdout_truncated: Generated<number>;
  stderr_truncated: Generated<number>;
  created_at: string;
  delivered_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  deliver_deadline: string | null;
  lost_after: string | null;
  cancel_requested: Generated<number>;
  ended_at: string | null;
}

export interface RunChunkTable {
  run_id: string;
  job_id: string | null;
  seq: number;
  stream: string;
  data: string;
  created_at: string;
}

export interface AuditEventTable {
  id: string;
  organization_id: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  details: string;
  created_at: string;
}

export interface UsedSignatureTable {
  digest: string;
  expires_at: string;
}

/** Saved scripts (migration 0004-scripts). */
export interface ScriptTable {
  id: string;
  organization_id: string;
  name: string;
  content: string;
  shell: string;
  run_as: string | null;
  timeout_s: number;
  ttl_s: number;
  /** JSON: `{system_ids, group_ids, selector}`. */
  default_targets: string;
  created_at: string;
  updated_at: string;
  created_by: string;
}

export interface Schema {
  organizations: OrganizationTable;
  api_keys: ApiKeyTable;
  enrollment_keys: EnrollmentKeyTable;
  systems: SystemTable;
  system_tags: SystemTagTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  jobs: JobTable;
  runs: RunTable;
  run_chunks: RunChunkTable;
  scripts: ScriptTable;
  audit_events: AuditEventTable;
  used_signatures: UsedSignatureTable;
}
