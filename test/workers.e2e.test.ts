import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/store/index.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';
import { readSse } from './support/sse.js';
import { exerciseShell, TerminalClient } from './support/terminal.js';

/** The JSON log lines a process printed with this message. */
function logLines(output: string, msg: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes(`"msg":"${msg}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** One request on a connection of its own (the primary hands each new connection to the next worker). */
async function ownConnection(url: string, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent: false, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode!, text, body: res.headers['content-type']?.startsWith('application/json') ? JSON.parse(text) : undefined }),
      );
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

interface RunView {
  id: string;
  system_id: string;
  state: string;
  stdout: string;
}

describe.each(DATABASES)('muster server --workers 2, on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let store: Database;
  let server: ServerProcess;
  const agents: AgentProcess[] = [];
  const api = (method: string, path: string, body?: unknown) => call(server.url, server.adminKey, method, path, body);

  /** replica id → pid of each worker that has listened so far. */
  function workers(): Map<string, number> {
    return new Map(logLines(server.proc.stdout, 'worker listening').map((l) => [l.replica as string, l.pid as number]));
  }

  /** Which replica holds each connected agent, as the database records it. */
  async function holders(): Promise<Map<string, string>> {
    const rows = await store.db.selectFrom('systems').select(['id', 'replica_id']).where('connected', '=', 1).execute();
    return new Map(rows.filter((r) => r.replica_id).map((r) => [r.id, r.replica_id!]));
  }

  async function runsOf(jobId: string): Promise<RunView[]> {
    return (await api('GET', `/v1/jobs/${jobId}/runs`)).body.items as RunView[];
  }

  /** A job's runs with their output. */
  async function outputsOf(jobId: string): Promise<RunView[]> {
    return Promise.all((await runsOf(jobId)).map(async (r) => (await api('GET', `/v1/runs/${r.id}`)).body as RunView));
  }

  beforeAll(async () => {
    if (skip) return;
    db = await createTestDatabase(name);
    store = db.open();
    server = await startServerProcess(db, { MUSTER_WORKERS: '2', MUSTER_SWEEP_INTERVAL_MS: '200' });
    await waitFor(async () => workers().size === 2, 'both workers to listen');
    // The primary hands connections to the workers in turn, and each agent makes two (its enrollment's
    // request, then its WebSocket): one more connection between agents changes which worker the next one lands on.
    for (let i = 0; i < 8; i++) {
      agents.push(await startAgentProcess(server));
      await waitFor(async () => (await holders()).size === agents.length, `agent ${i} to connect`);
      const replicas = new Set((await holders()).values()).size;
      if (i >= 3 && replicas === 2) break;
      if (replicas === 1) await ownConnection(server.url, server.adminKey, 'GET', '/healthz');
    }
  }, 120_000);

  afterAll(async () => {
    for (const agent of agents) await agent.proc.stop();
    await server?.proc.stop();
    await store?.close();
    await db?.drop();
  });

  it.skipIf(skip)(
    'holds agents on both workers, and a job launched through either reaches all of them',
    async () => {
      const held = await holders();
      expect(new Set(held.values())).toEqual(new Set(workers().keys()));
      const systemIds = agents.map((a) => a.systemId);
      // Each launch is one request, handed to one worker: launch until both have served one.
      const launchedBy = new Set<unknown>();
      for (let i = 0; i < 10 && launchedBy.size < 2; i++) {
        const marker = `launch-${i}-${randomUUID()}`;
        const { status, body } = await ownConnection(server.url, server.adminKey, 'POST', '/v1/jobs', {
          content: `echo ${marker}`,
          targets: { system_ids: systemIds },
        });
        expect(status).toBe(201);
        await waitFor(async () => (await api('GET', `/v1/jobs/${body.job.id}`)).body.done, `job ${i} to end`, 30_000);
        const runs = await outputsOf(body.job.id);
        expect(runs.map((r) => [r.system_id, r.state, r.stdout]).sort()).toEqual(systemIds.map((id) => [id, 'succeeded', `${marker}\n`]).sort());
        // The request log names the worker that served each launch.
        const launches = await waitFor(async () => {
          const lines = logLines(server.proc.stdout, 'request').filter((l) => l.method === 'POST' && l.url === '/v1/jobs' && l.status === 201);
          return lines.length === i + 1 && lines;
        }, 'the launch to be logged');
        for (const line of launches) launchedBy.add(line.worker);
      }
      expect(launchedBy).toEqual(new Set([0, 1]));
    },
    120_000,
  );

  it.skipIf(skip)('answers /metrics for every worker, whichever one a scrape reaches', async () => {
    // One after another: the primary hands each new connection to the next free worker.
    const scrapes = [];
    for (let i = 0; i < 6; i++) scrapes.push(await ownConnection(server.url, server.adminKey, 'GET', '/metrics'));
    const connected = scrapes.map((s) => Number(/^muster_agents_connected (\d+)$/m.exec(s.text)?.[1]));
    expect(connected).toEqual(scrapes.map(() => agents.length));
    // Each scrape was served by one worker, and both served some.
    const scrapedBy = logLines(server.proc.stdout, 'request').filter((l) => l.url === '/metrics');
    expect(new Set(scrapedBy.map((l) => l.worker))).toEqual(new Set([0, 1]));
  });

  it.skipIf(skip)(
    'opens a shell through either worker on an agent either holds, and a viewer attaches through either',
    async () => {
      const held = await holders();
      const workerOf = new Map(logLines(server.proc.stdout, 'worker listening').map((l) => [l.replica as string, l.worker as number]));
      let openedElsewhere = 0;
      let attachedElsewhere = 0;
      // Each request and each socket is a connection of its own, handed to the next worker: every agent, twice.
      for (let i = 0; i < agents.length * 2 && !(openedElsewhere && attachedElsewhere); i++) {
        const agent = agents[i % agents.length]!;
        const opened = await ownConnection(server.url, server.adminKey, 'POST', '/v1/sessions', { system_id: agent.systemId, cols: 80, rows: 24 });
        expect(opened.status, opened.text).toBe(201);
        const { exit, closeCode } = await exerciseShell(new TerminalClient(server.url, server.adminKey, opened.body.id));
        expect(exit).toMatchObject({ reason: 'exited', exit_code: 7 });
        expect(closeCode).toBe(1000);
        const holder = workerOf.get(held.get(agent.systemId)!);
        // The log names the worker that served the open and the one the viewer's socket reached.
        const openedBy = (
          await waitFor(
            async () => logLines(server.proc.stdout, 'request').filter((l) => l.method === 'POST' && l.url === '/v1/sessions')[i],
            'the open to be logged',
          )
        ).worker;
        const attachedBy = (
          await waitFor(async () => logLines(server.proc.stdout, 'viewer attached').find((l) => l.session_id === opened.body.id), 'the attach to be logged')
        ).worker;
        if (openedBy !== holder) openedElsewhere++;
        if (attachedBy !== holder) attachedElsewhere++;
        const recorded = await api('GET', `/v1/sessions/${opened.body.id}/recording`);
        expect(recorded.text).toContain('42');
      }
      expect(openedElsewhere).toBeGreaterThan(0);
      expect(attachedElsewhere).toBeGreaterThan(0);
    },
    120_000,
  );

  it.skipIf(skip)(
    "follows each run's live output through either worker, wherever its agent is held",
    async () => {
      const held = await holders();
      const workerOf = new Map(logLines(server.proc.stdout, 'worker listening').map((l) => [l.replica as string, l.worker as number]));
      const systemIds = agents.map((a) => a.systemId);
      let followedElsewhere = 0;
      for (let round = 0; round < 3 && followedElsewhere === 0; round++) {
        const { status, body } = await api('POST', '/v1/jobs', { content: 'echo one; sleep 0.5; echo two', targets: { system_ids: systemIds } });
        expect(status).toBe(201);
        for (const run of body.runs as Array<{ id: string; system_id: string }>) {
          // Each stream is a connection of its own (it is aborted at the end), handed to the next worker.
          const { events } = await readSse(`${server.url}/v1/runs/${run.id}/events`, { authorization: `Bearer ${server.adminKey}` }, (e) => e.event === 'end');
          const output = events
            .filter((e) => e.event === 'output')
            .map((e) => e.data.data)
            .join('');
          expect(output).toBe('one\ntwo\n');
          const line = await waitFor(
            async () => logLines(server.proc.stdout, 'request').find((l) => l.url === `/v1/runs/${run.id}/events`),
            'the stream to be logged',
          );
          if (line.worker !== workerOf.get(held.get(run.system_id)!)) followedElsewhere++;
        }
      }
      expect(followedElsewhere).toBeGreaterThan(0);
    },
    120_000,
  );

  it.skipIf(skip)(
    'a worker killed mid-job: its agents reconnect to the others, every run ends once, and the primary starts another',
    async () => {
      const held = await holders();
      const [victimReplica, victimPid] = [...workers()].find(([replica]) => [...held.values()].includes(replica))!;
      const onVictim = [...held].filter(([, replica]) => replica === victimReplica).map(([id]) => id);
      expect(onVictim.length).toBeGreaterThan(0);
      const dir = join(tmpdir(), `muster-workers-${randomUUID()}`);
      // Each run appends to its own file before and after the pause: a run made twice would leave two lines.
      const content = `mkdir -p ${dir}; echo start >> ${dir}/$MUSTER_RUN_ID; sleep 3; echo done >> ${dir}/$MUSTER_RUN_ID; echo finished`;
      const systemIds = agents.map((a) => a.systemId);
      const { status, body } = await api('POST', '/v1/jobs', { content, targets: { system_ids: systemIds } });
      expect(status).toBe(201);
      const jobId = body.job.id as string;
      await waitFor(async () => (await runsOf(jobId)).every((r) => r.state === 'running'), 'every run to start');

      process.kill(victimPid, 'SIGKILL');
      await server.proc.waitForOutput(/a worker died; starting another/);
      await waitFor(async () => workers().size === 3, 'the primary to start a third worker', 30_000);

      await waitFor(async () => (await api('GET', `/v1/jobs/${jobId}`)).body.done, 'the job to end', 60_000);
      const runs = await outputsOf(jobId);
      expect(runs.map((r) => [r.system_id, r.state, r.stdout]).sort()).toEqual(systemIds.map((id) => [id, 'succeeded', 'finished\n']).sort());
      for (const run of runs) expect(readFileSync(join(dir, run.id), 'utf8')).toBe('start\ndone\n');
      rmSync(dir, { recursive: true, force: true });

      // Every agent is held again, and none by the dead worker.
      await waitFor(async () => (await holders()).size === agents.length, 'every agent to reconnect', 30_000);
      const now = await holders();
      expect([...now.values()].includes(victimReplica)).toBe(false);
      expect(new Set([...now.values()]).size).toBeGreaterThan(0);
      for (const replica of now.values()) expect(workers().has(replica)).toBe(true);
    },
    120_000,
  );
});
