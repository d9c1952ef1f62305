import { scriptJobTally, type JobLinkRecord } from '../../core/attributes/index.js';
import type { Actor, Core } from '../../core/index.js';
import type { JobView, RunRecord } from '../../core/jobs/index.js';
import { deviceStatus } from './views.js';

/** A job as both shapes show it: numbers, counts, the script's name and each run with its device's number. */
export interface JobFacts {
  job: JobView;
  id: number;
  link: JobLinkRecord | undefined;
  scriptName: string;
  runs: Array<{ run: RunRecord; id: number; device: number }>;
  pending: number;
  succeeded: number;
  errored: number;
  status: 'pending' | 'completed' | 'failed';
  updatedAt: string;
}

/** Gathers what a job's views show. */
export async function jobFacts(core: Core, actor: Actor, job: JobView, link: JobLinkRecord | undefined): Promise<JobFacts> {
  const org = actor.organizationId;
  const runs = await core.jobs.runs(actor, job.id);
  const [id, devices, logs] = await Promise.all([
    core.numbers.numberOf('job', org, job.id),
    core.numbers.numbers(
      'system',
      org,
      runs.map((r) => r.systemId),
    ),
    core.numbers.numbers(
      'run',
      org,
      runs.map((r) => r.id),
    ),
  ]);
  const script = job.scriptId ? await core.scripts.get(actor, job.scriptId).catch(() => undefined) : undefined;
  const { pending, succeeded, errored, status } = scriptJobTally(job);
  const lastEnd = runs.map((r) => r.finishedAt ?? '').reduce((a, b) => (a > b ? a : b), '');
  return {
    job,
    id,
    link,
    scriptName: script?.name ?? link?.jobName ?? '',
    runs: runs.map((run) => ({ run, id: logs.get(run.id)!, device: devices.get(run.systemId)! })),
    pending,
    succeeded,
    errored,
    status,
    updatedAt: job.finishedAt ?? (lastEnd || job.createdAt),
  };
}

/** SimpleMDM's script job; `responses` (each device's output, by run id) only where one job is read. */
export function scriptJobView(f: JobFacts, responses?: Map<string, string>): unknown {
  return {
    type: 'script_job',
    id: f.id,
    attributes: {
      script_name: f.scriptName,
      job_name: f.link?.jobName ?? f.scriptName,
      job_identifier: f.job.id,
      status: f.status,
      pending_count: f.pending,
      success_count: f.succeeded,
      errored_count: f.errored,
      content: f.job.content,
      variable_support: f.link?.variableSupport ?? false,
      custom_attribute: f.link?.customAttribute ?? null,
      custom_attribute_regex: f.link?.customAttributeRegex ?? null,
      source: f.job.source,
      created_by: f.job.createdBy,
      created_at: f.job.createdAt,
      updated_at: f.updatedAt,
    },
    relationships: {
      device: {
        data: f.runs.map(({ run, device }) => ({
          type: 'device',
          id: device,
          status: deviceStatus(run.state),
          status_code: run.exitCode === null ? null : String(run.exitCode),
          ...(responses ? { response: responses.get(run.id) ?? '' } : {}),
        })),
      },
    },
  };
}
