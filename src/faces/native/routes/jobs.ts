import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import {
  IdParams,
  Job,
  JobList,
  JobListQuery,
  JobRunList,
  JobRunsQuery,
  LaunchBody,
  Launched,
  OutputQuery,
  RunList,
  RunWithOutput,
  SystemRunsQuery,
} from '../../../api/native/index.js';
import { MusterError } from '../../../core/errors.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { answers } from '../schemas.js';
import { view } from '../views.js';

/** A run's raw output: text, not JSON, so it is described by its media type. */
const RawOutput = {
  description: "The run's captured stdout or stderr; header x-muster-truncated says whether only its end was kept",
  content: { 'text/plain': { schema: Type.String() } },
};

/** /v1/jobs and /v1/runs: launch a script on systems, follow it, read its output. */
export function jobRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const tags = ['jobs'];

  api.post('/jobs', { schema: { tags, summary: 'Run a script on systems', body: LaunchBody, response: answers({ 201: Launched }) } }, async (req, reply) => {
    const source = req.headers['user-agent']?.startsWith('muster-cli/') ? 'cli' : 'api';
    const actor = actorOf(req);
    const { script, run_env: runEnv, ...rest } = req.body;
    const { job, runs } =
      script === undefined
        ? await core.jobs.launch(actor, { ...rest, targets: rest.targets, run_env: runEnv }, source)
        : await core.scripts.launch(actor, script, { ...rest, source, runEnv });
    return reply.status(201).send({ job: view.job(job), runs: runs.map(view.run) });
  });

  api.get('/jobs', { schema: { tags, summary: 'Jobs, newest first', querystring: JobListQuery, response: answers({ 200: JobList }) } }, async (req) => {
    const q = req.query;
    const jobs = await core.jobs.list(actorOf(req), { limit: q.limit === undefined ? undefined : Number(q.limit), before: q.before });
    return { items: jobs.map(view.job), next_cursor: jobs.length > 0 ? jobs[jobs.length - 1]!.createdAt : null };
  });

  api.post(
    '/jobs/:id/cancel',
    { schema: { tags, summary: 'Cancel a job: waiting runs end, running ones are killed', params: IdParams, response: answers({ 200: Job }) } },
    async (req) => {
      const { id } = req.params;
      await core.jobs.cancel(actorOf(req), { jobId: id });
      return view.job(await core.jobs.get(actorOf(req), id));
    },
  );

  api.post(
    '/jobs/:id/retry',
    {
      schema: {
        tags,
        summary: "Relaunch a job's failed, timed-out, lost and undeliverable runs as a new job",
        params: IdParams,
        response: answers({ 201: Launched }),
      },
    },
    async (req, reply) => {
      const { job, runs } = await core.jobs.retry(actorOf(req), req.params.id);
      return reply.status(201).send({ job: view.job(job), runs: runs.map(view.run) });
    },
  );

  api.post('/runs/:id/cancel', { schema: { tags, summary: 'Cancel one run', params: IdParams, response: answers({ 200: RunWithOutput }) } }, async (req) => {
    const { id } = req.params;
    await core.jobs.cancel(actorOf(req), { runId: id });
    return view.runWithOutput(await core.jobs.run(actorOf(req), id));
  });

  api.get('/jobs/:id', { schema: { tags, summary: 'A job with counts per run state', params: IdParams, response: answers({ 200: Job }) } }, async (req) =>
    view.job(await core.jobs.get(actorOf(req), req.params.id)),
  );

  api.get(
    '/jobs/:id/runs',
    {
      schema: {
        tags,
        summary: "A job's runs, one per system, by hostname: all of them, or a page with limit",
        params: IdParams,
        querystring: JobRunsQuery,
        response: answers({ 200: JobRunList }),
      },
    },
    async (req) => {
      const { limit, cursor, state } = req.query;
      if (limit === undefined && cursor === undefined) {
        // Every run at once, as clients written before paging (the CLI) read it.
        const runs = (await core.jobs.runs(actorOf(req), req.params.id)).filter((r) => state === undefined || r.state === state);
        return { items: runs.map(view.run), total: runs.length, next_cursor: null };
      }
      const page = await core.jobs.runsPage(actorOf(req), req.params.id, { limit: limit === undefined ? 200 : Number(limit), cursor, state });
      return { items: page.runs.map(view.run), total: page.total, next_cursor: page.nextCursor };
    },
  );

  api.get(
    '/systems/:id/runs',
    { schema: { tags, summary: "A system's newest runs, of every job", params: IdParams, querystring: SystemRunsQuery, response: answers({ 200: RunList }) } },
    async (req) => ({
      items: (await core.jobs.runsOfSystem(actorOf(req), req.params.id, req.query.limit === undefined ? undefined : Number(req.query.limit))).map(view.run),
    }),
  );

  api.get('/runs/:id', { schema: { tags, summary: 'One run with its output', params: IdParams, response: answers({ 200: RunWithOutput }) } }, async (req) =>
    view.runWithOutput(await core.jobs.run(actorOf(req), req.params.id)),
  );

  api.get(
    '/runs/:id/output',
    { schema: { tags, summary: "A run's raw output (text/plain)", params: IdParams, querystring: OutputQuery, response: answers({ 200: RawOutput }) } },
    async (req, reply) => {
      const stream = req.query.stream ?? 'stdout';
      if (stream !== 'stdout' && stream !== 'stderr') throw new MusterError('INVALID_ARGUMENT', 'stream: must be stdout or stderr', { field: 'stream' });
      const run = await core.jobs.run(actorOf(req), req.params.id);
      const truncated = stream === 'stdout' ? run.stdoutTruncated : run.stderrTruncated;
      return reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('x-muster-truncated', String(truncated))
        .send(stream === 'stdout' ? run.stdout : run.stderr);
    },
  );
}
