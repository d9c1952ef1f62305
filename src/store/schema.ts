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
  /** JSON array of group ids joined at enrollment (migration 0006-inventory). */
  group_ids: Generated<string>;
  expires_at: string | null;
  max_uses: number | null;
  uses: Generated<number>;
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
  /** JSON object of string attributes (migration 0006-inventory). */
  attributes: Generated<string>;
  /** The PuppetDB certname this system answers to; its hostname when null (migration 0007-ingest). */
  certname: Generated<string | null>;
  /** The replica holding this system's agent connection (migration 0016-presence-leases). */
  replica_id: Generated<string | null>;
  /** Until when that replica's hold counts; connected while in the future. */
  lease_expires_at: Generated<string | null>;
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
  /** The run's own variables as JSON, laid over its job's at delivery; null when it has none (migration 0017-run-env). */
  env: string | null;
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
  request_id: string | null;
  source_ip: string | null;
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
  /** Migration 0005-commands: a Script's trigger, launch type, schedule, run-on-enroll, platform. */
  trigger_name: string | null;
  launch_type: Generated<string>;
  schedule: string | null;
  timezone: string | null;
  run_at: string | null;
  run_on_enroll: Generated<number>;
  platform: string | null;
  /** When the scheduler fires next; claimed with a compare-and-set. */
  next_fire_at: string | null;
  /** The slot a scheduler claimed and is launching, and since when (crash recovery). */
  pending_fire: string | null;
  pending_since: string | null;
  /** JSON object of string values (migration 0014-script-attributes). */
  attributes: Generated<string>;
}

/** Named triggers, optionally with an HMAC secret (migration 0005-commands). */
export interface TriggerTable {
  id: string;
  organization_id: string;
  name: string;
  secret: string | null;
  created_at: string;
  created_by: string;
}

/** Outbound webhook subscriptions; `events` is a JSON array, `secret` sealed (migration 0021-webhooks). */
export interface WebhookTable {
  id: string;
  organization_id: string;
  url: string;
  events: string;
  enabled: number;
  description: string;
  secret: string;
  created_at: string;
  created_by: string;
  updated_at: string;
}

/** The webhook outbox: one row per event and subscription (migration 0021-webhooks). */
export interface WebhookDeliveryTable {
  id: string;
  webhook_id: string;
  organization_id: string;
  event: string;
  body: string;
  state: string;
  attempts: number;
  created_at: string;
  next_attempt_at: string;
  retry_until: string;
  lease_until: string | null;
  delivered_at: string | null;
  last_status: number | null;
  last_error: string | null;
}

/** Each attempt to send a delivery (migration 0021-webhooks). */
export interface WebhookAttemptTable {
  delivery_id: string;
  seq: number;
  started_at: string;
  duration_ms: number;
  status: number | null;
  response_body: string | null;
  error: string | null;
}

/** Idempotency keys of trigger calls, kept 24 h (migration 0005-commands). */
export interface TriggerCallTable {
  organization_id: string;
  trigger_name: string;
  idempotency_key: string;
  /** JSON of the first call's result; null while that call is still launching. */
  result: string | null;
  created_at: string;
  expires_at: string;
}

/** Command results deleted through the API; the runs stay (migration 0005-commands). */
export interface HiddenCommandResultTable {
  run_id: string;
  organization_id: string;
  hidden_at: string;
}

/** System users (migration 0006-inventory). */
export interface SystemUserTable {
  id: string;
  organization_id: string;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  created_at: string;
}

export interface SystemUserBindingTable {
  user_id: string;
  system_id: string;
}

/** Queued PuppetDB-style commands (migration 0007-ingest). */
export interface IngestCommandTable {
  id: string;
  organization_id: string;
  command: string;
  version: number;
  certname: string;
  producer_timestamp: string | null;
  received_at: string;
  /** queued | processing | done | discarded */
  state: string;
  attempts: Generated<number>;
  available_at: string;
  lease_until: string | null;
  error: string | null;
  diagnostics: string | null;
  processed_at: string | null;
}

/** A command's JSON payload, until it is processed (migration 0011-ingest-payloads). */
export interface IngestPayloadTable {
  id: string;
  payload: string;
}

/** One row per certname: activity, latest facts, and pointers to the latest catalog and report. */
export interface IngestNodeTable {
  organization_id: string;
  certname: string;
  deactivated: string | null;
  expire_facts: Generated<number>;
  environment: string | null;
  facts: string | null;
  facts_hash: string | null;
  facts_environment: string | null;
  facts_producer: string | null;
  facts_timestamp: string | null;
  facts_producer_timestamp: string | null;
  catalog_timestamp: string | null;
  catalog_producer_timestamp: string | null;
  catalog_environment: string | null;
  report_timestamp: string | null;
  report_producer_timestamp: string | null;
  report_environment: string | null;
  latest_report_hash: string | null;
  latest_report_status: string | null;
  latest_report_noop: number | null;
  latest_report_noop_pending: number | null;
  latest_report_corrective_change: number | null;
  latest_report_job_id: string | null;
  cached_catalog_status: string | null;
}

export interface IngestCatalogTable {
  organization_id: string;
  certname: string;
  hash: string;
  producer_timestamp: string;
  received_at: string;
  body: string;
}

export interface IngestReportTable {
  organization_id: string;
  hash: string;
  certname: string;
  producer_timestamp: string;
  end_time: string;
  received_at: string;
  body: string;
}

export interface IngestCatalogInputsTable {
  organization_id: string;
  certname: string;
  producer_timestamp: string;
  catalog_uuid: string | null;
  inputs: string;
}

/** Resources of each certname's latest catalog, in catalog order (migration 0009-pdb-query). */
export interface IngestResourceTable {
  organization_id: string;
  certname: string;
  ordinal: number;
  resource: string;
  type: string;
  title: string;
  tags: string;
  exported: number;
  file: string | null;
  line: number | null;
  parameters: string;
  environment: string | null;
}

/** A face's integer id for one entity of a kind (migration 0019-integer-ids). */
export interface IntegerIdTable {
  kind: string;
  number: number;
  native_id: string;
  organization_id: string;
}

/** A custom attribute's definition; each system's value is in its attributes. */
export interface CustomAttributeTable {
  organization_id: string;
  name: string;
  default_value: string;
  created_at: string;
}

/** What a script job launched through the SimpleMDM-compatible face asked for. */
export interface ScriptJobLinkTable {
  job_id: string;
  organization_id: string;
  job_name: string;
  /** Comma-separated target types (device, device_group, assignment_group). */
  target_types: string;
  /** Comma-separated group ids, with a comma before the first and after the last. */
  group_ids: string;
  variable_support: number;
  custom_attribute: string | null;
  custom_attribute_regex: string | null;
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
  triggers: TriggerTable;
  trigger_calls: TriggerCallTable;
  hidden_command_results: HiddenCommandResultTable;
  audit_events: AuditEventTable;
  used_signatures: UsedSignatureTable;
  system_users: SystemUserTable;
  system_user_bindings: SystemUserBindingTable;
  ingest_commands: IngestCommandTable;
  ingest_nodes: IngestNodeTable;
  ingest_catalogs: IngestCatalogTable;
  ingest_reports: IngestReportTable;
  ingest_catalog_inputs: IngestCatalogInputsTable;
  ingest_resources: IngestResourceTable;
  ingest_payloads: IngestPayloadTable;
  integer_ids: IntegerIdTable;
  custom_attributes: CustomAttributeTable;
  script_job_links: ScriptJobLinkTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
}
