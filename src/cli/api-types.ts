/** The native API's wire shapes, as far as the CLI reads them. */

export type RunState = 'pending' | 'delivered' | 'running' | 'succeeded' | 'failed' | 'timed_out' | 'cancelled' | 'undeliverable' | 'lost';

export interface Whoami {
  organization_id: string;
  organization_name: string;
  key_id: string;
  role: string;
}

export interface System {
  id: string;
  hostname: string;
  display_name: string;
  os: string;
  os_release: string;
  arch: string;
  tags: string[];
  connected: boolean;
  last_contact: string | null;
}

export interface Job {
  id: string;
  status: string;
  done: boolean;
  total: number;
  counts: Partial<Record<RunState, number>>;
  source: string;
  content?: string;
  created_at: string;
  finished_at: string | null;
  /** Why the engine stopped delivering (max_errors), when it did; not in every server version. */
  stopped_reason?: string | null;
}

export interface Run {
  id: string;
  job_id: string;
  system_id: string;
  hostname: string;
  state: RunState;
  exit_code: number | null;
  signal: string | null;
  reason: string | null;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  finished_at: string | null;
}

export interface RunWithOutput extends Run {
  stdout: string;
  stderr: string;
}

export interface ApiKey {
  id: string;
  name: string;
  role: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface EnrollmentKey {
  id: string;
  name: string;
  tags: string[];
  group_ids: string[];
  expires_at: string | null;
  max_uses: number | null;
  uses: number;
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}
