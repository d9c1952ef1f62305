import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Actor, Core } from '../../../core/index.js';
import { invalid } from '../../../core/errors.js';
import type { RunOutput, RunRecord } from '../../../core/jobs/index.js';
import { route } from '../route.js';
import { resolveOne } from '../refs.js';
import { jobFacts } from '../script-job-view.js';
import { hasVariableSupport } from '../views.js';
import { launchTargets } from './script-jobs.js';

/** The target types of the request's `POST /api/v1/jobs`. */
const REFERENCE_TARGET_TYPES = ['device', 'device_group', 'assignment_group'];

/** The request's job shape: status counts and each device with the id of its log. */
async function referenceJob(core: Core, actor: Actor, jobId: string): Promise<unknown> {
  const job = await core.jobs.get(actor, jobId);
  const link = (await core.attributes.links(actor, [job.id])).get(job.id);
  const f = await jobFacts(core, actor, job, link);
  const targetType = link?.targetTypes[0] ?? 'device';
  const targets =
    targetType === 'device' ? f.runs.map((r) => r.device) : [...(await core.numbers.numbers('group', actor.organizationId, link!.groupIds)).values()];
  return {
    data: {
      type: 'job',
      id: f.id,
      attributes: {
        scriptname: f.scriptName,
        created: f.job.createdAt,
        createdby: f.job.createdBy,
        target_type: targetType,
        targettype: targetType,
        target: targets.length === 1 ? targets[0] : targets,
        status: { pending: f.pending, completed: f.succeeded, failed: f.errored },
        devices: f.runs.map(({ run, id, device }) => ({ id: device, status: deviceWord(run), logid: id })),
      },
    },
  };
}

/** The request's device statuses: pending, completed or failed. */
function deviceWord(run: RunRecord): string {
  if (run.state === 'succeeded') return 'completed';
  return ['pending', 'delivered', 'running'].includes(run.state) ? 'pending' : 'failed';
}

/** Raw output, as bytes: `application/octet-stream`. */
function raw(reply: FastifyReply, run: RunOutput, stream: string | undefined): FastifyReply {
  if (stream !== undefined && stream !== 'stdout' && stream !== 'stderr') throw invalid('stream', 'must be stdout or stderr');
  return reply
    .status(200)
    .header('content-type', 'application/octet-stream')
    .send(Buffer.from(stream === 'stderr' ? run.stderr : run.stdout, 'utf8'));
}

/**
 * The job shapes of the request that asked SimpleMDM for scripts in its API:
 * `POST /jobs` by script name and target, `GET /job/{id}`, its logs with
 * base64 output, and the raw output of a run or of a one-device job.
 */
export function referenceJobRoutes(app: FastifyInstance, core: Core): void {
  route(
    app,
    'POST',
    '/jobs',
    async ({ actor, p }) => {
      const ref = p.text('scriptname', 'script_name', 'script_id');
      if (ref === undefined || ref === '') throw invalid('scriptname', 'is required');
      const byNumber = p.has('script_id') && !p.has('scriptname', 'script_name');
      const script = await core.scripts.get(actor, byNumber ? await resolveOne(core, actor, 'script', ref) : ref);
      const type = p.text('target_type', 'targettype') ?? 'device';
      if (!REFERENCE_TARGET_TYPES.includes(type)) throw invalid('target_type', `must be one of ${REFERENCE_TARGET_TYPES.join(', ')}; got ${type}`);
      const target = p.list('target') ?? [];
      if (target.length === 0) throw invalid('target', 'is required: the device or group to run the script on');
      const targets = await launchTargets(
        core,
        actor,
        type === 'device' ? target : [],
        type === 'device_group' ? target : [],
        type === 'assignment_group' ? target : [],
      );
      const { job } = await core.attributes.launch(actor, { script: script.id, ...targets, variableSupport: hasVariableSupport(script) });
      return referenceJob(core, actor, job.id);
    },
    201,
  );
  route(app, 'GET', '/job/:id', async ({ req, actor }) => referenceJob(core, actor, await resolveOne(core, actor, 'job', (req.params as { id: string }).id)));
  route(app, 'GET', '/job/log/:id', async ({ req, actor }) => {
    const run = await core.jobs.run(actor, await resolveOne(core, actor, 'run', (req.params as { id: string }).id));
    const job = await core.jobs.get(actor, run.jobId);
    const org = actor.organizationId;
    const script = job.scriptId ? await core.scripts.get(actor, job.scriptId).catch(() => undefined) : undefined;
    return {
      data: {
        type: 'log',
        id: await core.numbers.numberOf('run', org, run.id),
        attributes: {
          job_id: await core.numbers.numberOf('job', org, job.id),
          device_id: await core.numbers.numberOf('system', org, run.systemId),
          status: deviceWord(run),
          started_at: run.startedAt,
          finished_at: run.finishedAt,
        },
        metadata: {
          name: script?.name ?? '',
          job_status: run.exitCode === null ? '' : String(run.exitCode),
          stdout: Buffer.from(run.stdout, 'utf8').toString('base64'),
          stderr: Buffer.from(run.stderr, 'utf8').toString('base64'),
          stdout_truncated: run.stdoutTruncated,
          stderr_truncated: run.stderrTruncated,
        },
      },
    };
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    route(app, 'GET', `/job/log/:id/${stream}`, async ({ req, reply, actor }) =>
      raw(reply, await core.jobs.run(actor, await resolveOne(core, actor, 'run', (req.params as { id: string }).id)), stream),
    );
  }
  route(app, 'GET', '/job/response/:id', async ({ req, reply, actor, p }) => {
    const jobId = await resolveOne(core, actor, 'job', (req.params as { id: string }).id);
    const runs = await core.jobs.runs(actor, jobId);
    const device = p.text('device_id');
    const systemId = device === undefined ? undefined : await resolveOne(core, actor, 'system', device);
    const chosen = systemId === undefined ? runs : runs.filter((r) => r.systemId === systemId);
    if (chosen.length !== 1)
      throw invalid('device_id', chosen.length === 0 ? 'the job did not run on that device' : 'the job ran on several devices: name one with device_id');
    return raw(reply, await core.jobs.run(actor, chosen[0]!.id), p.text('stream'));
  });
}
