import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { MusterError } from '../../../core/errors.js';
import type { LaunchInput } from '../../../core/jobs/index.js';
import { actorOf, type NativeDeps } from '../context.js';
import { IdParams, Shell } from '../schemas.js';
import { view } from '../views.js';

const LaunchBody = Type.Object(
  {
    content: Type.Optional(Type.String({ minLength: 1, description: 'The script, at most 1 MiB; or name a saved script' })),
    script: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'A saved script, by id or name: its content is frozen at launch, and its settings apply unless given here' })),
    shell: Type.Optional(Shell),
    targets: Type.Optional(Type.Object(
      {
        system_ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }))),
        group_ids: Type.Optional(Type.Array(Type.String({ maxLength: 100 }))),
        selector: Type.Optional(Type.String({ maxLength: 4096, description: 'e.g. tag:web and not hostname:canary' })),
        all: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false, description: "The union of what is given; defaults to a saved script's targets" },
    )),
    env: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Environment variables for the script; names must match ^[A-Za-z_][A-Za-z0-9_]*$, and names that change how it runs (BASH_ENV, PATH, LD_*, PYTHON*, …: src/lib/env-policy.ts) are refused' })),
    timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400, description: 'Seconds before the run is killed; default 120, or the saved script\'s' })),
    ttl_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 604_800, description: 'How long a run waits for an offline system; default 3600, or the saved script\'s' })),
    run_as: Type.Optional(Type.String({ maxLength: 32 })),
    max_concurrency: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^\\d+(\\.\\d+)?%$' })], { description: 'A count, or a percentage of the systems like "10%"' })),
    max_errors: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^\\d+(\\.\\d+)?%$' })], { description: 'Stop delivering once more runs than this have failed' })),
  },
  { additionalProperties: false },
);

const OutputQuery = Type.Object({ stream: Type.Optional(Type.Union([Type.Literal('stdout'), Type.Literal('stderr')])) }, { additionalProperties: false });

/** /v1/jobs and /v1/runs: launch a script on systems, follow it, read its output. */
export function jobRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  app.post('/jobs', { schema: { tags: ['jobs'], summary: 'Run a script on systems', body: LaunchBody } }, async (req, reply) => {
    const source = req.headers['user-agent']?.startsWith('muster-cli/') ? 'cli' : 'api';
    const actor = actorOf(req);
    const body = req.body as LaunchInput & { script?: string };
    const { input, scriptId } = body.script === undefined ? { input: body, scriptId: undefined } : await core.scripts.launchInput(actor, { ...body, script: body.script });
    const { job, runs } = await core.jobs.launch(actor, input, source, scriptId === undefined ? {} : { scriptId });
    return reply.status(201).send({ job: view.job(job), runs: runs.map(view.run) });
  });

  app.get(
    '/jobs',
    { schema: { tags: ['jobs'], summary: 'Jobs, newest first', querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })), before: Type.Optional(Type.String({ maxLength: 40 })) }, { additionalProperties: false }) } },
    async (req) => {
      const q = req.query as { limit?: string; before?: string };
      const jobs = await core.jobs.list(actorOf(req), { limit: q.limit === undefined ? undefined : Number(q.limit), before: q.before });
      return { items: jobs.map(view.job), next_cursor: jobs.length > 0 ? jobs[jobs.length - 1]!.createdAt : null };
    },
  );

  app.post('/jobs/:id/cancel', { schema: { tags: ['jobs'], summary: 'Cancel a job: waiting runs end, running ones are killed', params: IdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    await core.jobs.cancel(actorOf(req), { jobId: id });
    return view.job(await core.jobs.get(actorOf(req), id));
  });

  app.post('/jobs/:id/retry', { schema: { tags: ['jobs'], summary: "Relaunch a job's failed, timed-out, lost and undeliverable runs as a new job", params: IdParams } }, async (req, reply) => {
    const { job, runs } = await core.jobs.retry(actorOf(req), (req.params as { id: string }).id);
    return reply.status(201).send({ job: view.job(job), runs: runs.map(view.run) });
  });

  app.post('/runs/:id/cancel', { schema: { tags: ['jobs'], summary: 'Cancel one run', params: IdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    await core.jobs.cancel(actorOf(req), { runId: id });
    return view.runWithOutput(await core.jobs.run(actorOf(req), id));
  });

  app.get('/jobs/:id', { schema: { tags: ['jobs'], summary: 'A job with counts per run state', params: IdParams } }, async (req) =>
    view.job(await core.jobs.get(actorOf(req), (req.params as { id: string }).id)),
  );

  app.get('/jobs/:id/runs', { schema: { tags: ['jobs'], summary: "A job's runs, one per system", params: IdParams } }, async (req) => ({
    items: (await core.jobs.runs(actorOf(req), (req.params as { id: string }).id)).map(view.run),
  }));

  app.get('/runs/:id', { schema: { tags: ['jobs'], summary: 'One run with its output', params: IdParams } }, async (req) =>
    view.runWithOutput(await core.jobs.run(actorOf(req), (req.params as { id: string }).id)),
  );

  app.get(
    '/runs/:id/output',
    { schema: { tags: ['jobs'], summary: "A run's raw output (text/plain)", params: IdParams, querystring: OutputQuery } },
    async (req, reply) => {
      const stream = (req.query as { stream?: string }).stream ?? 'stdout';
      if (stream !== 'stdout' && stream !== 'stderr') throw new MusterError('INVALID_ARGUMENT', 'stream: must be stdout or stderr', { field: 'stream' });
      const run = await core.jobs.run(actorOf(req), (req.params as { id: string }).id);
      const truncated = stream === 'stdout' ? run.stdoutTruncated : run.stderrTruncated;
      return reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('x-muster-truncated', String(truncated))
        .send(stream === 'stdout' ? run.stdout : run.stderr);
    },
  );
}
