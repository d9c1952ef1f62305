import type { ApiKey, Job, Organization, Run, RunWithOutput } from '../../api/native/index.js';
import type { ApiKeyRecord } from '../../core/keys/index.js';
import type { JobView, RunOutput, RunRecord } from '../../core/jobs/index.js';
import type { OrganizationRecord } from '../../core/organizations/index.js';

/** Core records → the native API's snake_case shapes (typed by their wire schemas, so the two cannot drift). */
export const view = {
  organization: (o: OrganizationRecord): Organization => ({ id: o.id, slug: o.slug, name: o.name, created_at: o.createdAt }),
  apiKey: (k: ApiKeyRecord): ApiKey => ({
    id: k.id,
    name: k.name,
    role: k.role,
    prefix: k.prefix,
    created_at: k.createdAt,
    last_used_at: k.lastUsedAt,
    revoked_at: k.revokedAt,
  }),
  job: (j: JobView): Job => ({
    id: j.id,
    status: j.status,
    done: j.done,
    total: j.total,
    counts: j.counts,
    shell: j.shell,
    timeout_s: j.timeoutS,
    ttl_s: j.ttlS,
    run_as: j.runAs,
    selector: j.selector,
    max_concurrency: j.maxConcurrency,
    max_errors: j.maxErrors,
    stopped_reason: j.stoppedReason,
    retry_of: j.retryOf,
    script_id: j.scriptId,
    source: j.source,
    env: j.env,
    content: j.content,
    created_by: j.createdBy,
    created_at: j.createdAt,
    finished_at: j.finishedAt,
  }),
  run: (r: RunRecord): Run => ({
    id: r.id,
    job_id: r.jobId,
    system_id: r.systemId,
    hostname: r.hostname,
    state: r.state,
    exit_code: r.exitCode,
    signal: r.signal,
    reason: r.reason,
    stdout_truncated: r.stdoutTruncated,
    stderr_truncated: r.stderrTruncated,
    created_at: r.createdAt,
    delivered_at: r.deliveredAt,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
  }),
  runWithOutput: (r: RunRecord & RunOutput): RunWithOutput => ({ ...view.run(r), stdout: r.stdout, stderr: r.stderr }),
};
