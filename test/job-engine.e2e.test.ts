import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { muster, startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';

/** Processes whose environment carries `marker`. */
function withMarker(marker: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .flatMap((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(marker) ? [Number(pid)] : [];
      } catch {
        return [];
      }
    });
}

interface Interval {
  start: number;
  end: number;
}

/** The most runs whose [started, finished] intervals overlap at one instant. */
function maxOverlap(runs: Interval[]): number {
  const events = runs
    .flatMap(
      (r) =>
        [
          [r.start, 1],
          [r.end, -1],
        ] as const,
    )
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of events) most = Math.max(most, (now += d));
  return most;
}

describe.each(DATABASES)('job engine end to end on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let agents: AgentProcess[] = [];
  const api = (method: string, path: string, body?: unknown) => call(server.url, server.adminKey, method, path, body);
  const ids = () => agents.map((a) => a.systemId);

  async function connected(systemIds: string[], want = true): Promise<boolean> {
    const { body } = await api('GET', '/v1/systems');
    return systemIds.every((id) => body.items.some((s: { id: string; connected: boolean }) => s.id === id && s.connected === want));
  }

  async function finished(jobId: string, timeoutMs = 30_000): Promise<any> {
    return waitFor(
      async () => {
        const { body } = await api('GET', `/v1/jobs/${jobId}`);
        return body.done ? body : undefined;
      },
      `job ${jobId} to finish`,
      timeoutMs,
    );
  }

  async function runsOf(jobId: string): Promise<any[]> {
    const { body } = await api('GET', `/v1/jobs/${jobId}/runs`);
    return body.items;
  }

  const intervals = (runs: any[]): Interval[] => runs.map((r) => ({ start: Date.parse(r.started_at), end: Date.parse(r.finished_at) }));

  beforeAll(async () => {
    if (skip) return;
    db = await createTestDatabase(name);
    server = await startServerProcess(db, { MUSTER_LOST_GRACE_S: '1', MUSTER_SWEEP_INTERVAL_MS: '200' });
    agents = [await startAgentProcess(server, ['web']), await startAgentProcess(server, ['web']), await startAgentProcess(server, ['db'])];
    await waitFor(() => connected(ids()), 'three agents to connect');
  });

  afterAll(async () => {
    for (const a of agents) await a.proc.stop();
    await server?.proc.stop();
    await db?.drop();
  });

  it.skipIf(skip)('runs on several systems overlap in time', async () => {
    const { body } = await api('POST', '/v1/jobs', { content: 'sleep 1', targets: { all: true } });
    await finished(body.job.id);
    expect(maxOverlap(intervals(await runsOf(body.job.id)))).toBe(3);
  });

  it.skipIf(skip)('max_concurrency is never exceeded, and a selector picks the systems', async () => {
    const { body } = await api('POST', '/v1/jobs', { content: 'sleep 0.5', targets: { selector: 'tag:web or tag:db' }, max_concurrency: 1 });
    expect(body.job.total).toBe(3);
    const job = await finished(body.job.id);
    expect(job.status).toBe('succeeded');
    expect(maxOverlap(intervals(await runsOf(body.job.id)))).toBe(1);
    const web = await api('POST', '/v1/jobs', { content: 'true', targets: { selector: 'tag:web and not tag:db' } });
    expect(web.body.job.total).toBe(2);
  });

  it.skipIf(skip)('max_errors stops delivery; the rest end cancelled with the reason', async () => {
    const { body } = await api('POST', '/v1/jobs', { content: 'exit 7', targets: { all: true }, max_concurrency: 1, max_errors: 0 });
    const job = await finished(body.job.id);
    expect(job.counts).toMatchObject({ failed: 1, cancelled: 2 });
    expect(job.stopped_reason).toMatch(/max_errors/);
  });

  it.skipIf(skip)('cancel kills a running sleep and its children', async () => {
    const marker = `MUSTER_E2E_${randomUUID().replaceAll('-', '')}`;
    const { body } = await api('POST', '/v1/jobs', { content: 'sleep 60 & sleep 60', targets: { system_ids: [agents[0]!.systemId] }, env: { MARK: marker } });
    await waitFor(async () => withMarker(marker).length >= 3, 'the script and its sleeps to start');
    const cancel = await api('POST', `/v1/jobs/${body.job.id}/cancel`);
    expect(cancel.status).toBe(200);
    const job = await finished(body.job.id);
    expect(job).toMatchObject({ status: 'cancelled', counts: { cancelled: 1 } });
    expect(withMarker(marker)).toEqual([]);
  });

  it.skipIf(skip)('an offline system gets its run when its agent connects, or ends undeliverable after its TTL', async () => {
    const offline = agents[2]!;
    await offline.proc.stop();
    await waitFor(() => connected([offline.systemId], false), 'the agent to be seen offline');
    const late = await api('POST', '/v1/jobs', { content: 'echo late', targets: { system_ids: [offline.systemId] }, ttl_s: 600 });
    const expired = await api('POST', '/v1/jobs', { content: 'echo never', targets: { system_ids: [offline.systemId] }, ttl_s: 1 });
    const gone = await finished(expired.body.job.id, 10_000);
    expect(gone.counts.undeliverable).toBe(1);
    expect((await runsOf(expired.body.job.id))[0].reason).toMatch(/time-to-live/);
    expect((await api('GET', `/v1/jobs/${late.body.job.id}`)).body.counts.pending).toBe(1);
    offline.restart();
    const job = await finished(late.body.job.id);
    expect(job.status).toBe('succeeded');
    expect((await api('GET', `/v1/runs/${late.body.runs[0].id}`)).body.stdout).toBe('late\n');
  });

  it.skipIf(skip)('a server restart mid-run loses no result and runs nothing twice', async () => {
    const file = join(tmpdir(), `muster-once-${randomUUID()}`);
    const { body } = await api('POST', '/v1/jobs', {
      content: 'echo ran >> "$ONCE_FILE"; sleep 1; echo done',
      targets: { all: true },
      env: { ONCE_FILE: file },
    });
    await waitFor(async () => existsSync(file), 'the runs to start');
    await server.proc.stop();
    await server.restart();
    const job = await finished(body.job.id, 40_000);
    expect(job.status).toBe('succeeded');
    expect(readFileSync(file, 'utf8')).toBe('ran\nran\nran\n');
    await waitFor(() => connected(ids()), 'agents to reconnect', 40_000);
  });

  it.skipIf(skip)('killing an agent mid-run ends the run lost', async () => {
    const victim = agents[1]!;
    const marker = `MUSTER_E2E_${randomUUID().replaceAll('-', '')}`;
    const { body } = await api('POST', '/v1/jobs', { content: 'sleep 30', targets: { system_ids: [victim.systemId] }, timeout_s: 1, env: { MARK: marker } });
    await waitFor(async () => withMarker(marker).length >= 1, 'the run to start');
    await victim.proc.stop('SIGKILL');
    for (const pid of withMarker(marker)) process.kill(pid, 'SIGKILL');
    const job = await finished(body.job.id, 20_000);
    expect(job.counts.lost).toBe(1);
    expect((await runsOf(body.job.id))[0].reason).toMatch(/went away/);
    victim.restart();
    await waitFor(() => connected([victim.systemId]), 'the agent to come back');
  });

  it.skipIf(skip)('retry relaunches only the systems that failed', async () => {
    const good = agents[0]!.systemId;
    const { body } = await api('POST', '/v1/jobs', { content: `test "$MUSTER_SYSTEM_ID" = "${good}"`, targets: { all: true } });
    const job = await finished(body.job.id);
    expect(job.counts).toMatchObject({ succeeded: 1, failed: 2 });
    const retry = await api('POST', `/v1/jobs/${body.job.id}/retry`);
    expect(retry.status).toBe(201);
    expect(retry.body.job.retry_of).toBe(body.job.id);
    expect(retry.body.runs.map((r: { system_id: string }) => r.system_id).sort()).toEqual(
      ids()
        .filter((id) => id !== good)
        .sort(),
    );
  });

  it.skipIf(skip)('a job launched from a saved script runs its content as it was at launch, on its default targets', async () => {
    const created = await api('POST', '/v1/scripts', {
      name: `greet-${randomUUID().slice(0, 8)}`,
      content: 'echo "v1 $GREETING"',
      timeout_s: 30,
      default_targets: { selector: 'tag:web' },
    });
    expect(created.status).toBe(201);
    const launched = await api('POST', '/v1/jobs', { script: created.body.name, env: { GREETING: 'hello' } });
    expect(launched.status).toBe(201);
    expect(launched.body.job).toMatchObject({ script_id: created.body.id, content: 'echo "v1 $GREETING"', timeout_s: 30 });
    // Editing the script after launch changes nothing for the job that already froze it.
    expect((await api('PATCH', `/v1/scripts/${created.body.id}`, { content: 'echo v2' })).status).toBe(200);
    const job = await finished(launched.body.job.id);
    expect(job.counts.succeeded).toBe(2);
    const runs = await runsOf(launched.body.job.id);
    expect(runs.map((r) => r.system_id).sort()).toEqual([agents[0]!.systemId, agents[1]!.systemId].sort());
    for (const r of runs) expect((await api('GET', `/v1/runs/${r.id}/output`)).text).toBe('v1 hello\n');
    const both = await api('POST', '/v1/jobs', { script: created.body.id, content: 'true' });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/either content or script/);
    const missing = await api('POST', '/v1/jobs', { script: 'no-such-script', targets: { all: true } });
    expect(missing.status).toBe(404);
  });

  it.skipIf(skip)('the CLI streams prefixed lines, previews selections, lists, shows, cancels and reads logs', async () => {
    const env = { MUSTER_SERVER: server.url, MUSTER_API_KEY: server.adminKey };
    const web = agents
      .slice(0, 2)
      .map((a) => a.systemId)
      .sort();
    const preview = await muster(['systems', '--select', 'tag:web', '--json'], env);
    expect(
      JSON.parse(preview.stdout)
        .map((s: { id: string }) => s.id)
        .sort(),
    ).toEqual(web);
    const run = await muster(['run', '--select', 'tag:web', '--max-concurrency', '1', '--', 'echo "id=$MUSTER_SYSTEM_ID"; echo warn >&2'], env);
    expect(run.code, run.stderr).toBe(0);
    for (const id of web) expect(run.stdout).toMatch(new RegExp(`^\\S+\\s+\\| id=${id}$`, 'm'));
    expect(run.stderr.match(/\| warn$/gm)).toHaveLength(2);
    expect(run.stdout).toMatch(/2 succeeded, 0 failed \(job (\w+)\)/);
    const jobId = /\(job (\w+)\)/.exec(run.stdout)![1]!;
    const listed = JSON.parse((await muster(['jobs', 'list', '--json'], env)).stdout);
    expect(listed[0].id).toBe(jobId);
    const shown = JSON.parse((await muster(['jobs', 'show', jobId, '--json'], env)).stdout);
    expect(shown.runs).toHaveLength(2);
    const logs = await muster(['logs', shown.runs[0].id, '--stderr'], env);
    expect(logs.stdout).toBe('warn\n');
    const detached = await muster(['run', '--all', '--detach', '--', 'sleep 30'], env);
    const sleeping = detached.stdout.trim();
    await waitFor(async () => (await api('GET', `/v1/jobs/${sleeping}`)).body.counts.running === 3, 'the sleeps to run');
    const cancelled = await muster(['jobs', 'cancel', sleeping], env);
    expect(cancelled.code).toBe(0);
    expect((await finished(sleeping)).status).toBe('cancelled');
    const failing = await muster(['run', '--all', '--max-errors', '0', '--max-concurrency', '1', '--', 'exit 2'], env);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/cancelled: not started: 1 runs failed, more than max_errors \(0\)/);
    const badSelector = await muster(['run', '--select', 'tag:(', '--', 'true'], env);
    expect(badSelector.code).toBe(1);
    expect(badSelector.stderr).toMatch(/selector: .*position/);
  });

  it.skipIf(skip)("refuses bad engine input and other organizations' systems in a selector", async () => {
    const bad = await api('POST', '/v1/jobs', { content: 'true', targets: { selector: 'tag:web and (' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/selector: .*ended at position 14/);
    expect((await api('POST', '/v1/jobs', { content: 'true', targets: { all: true }, max_concurrency: 0 })).status).toBe(400);
    expect((await api('POST', '/v1/jobs', { content: 'true', targets: { all: true }, max_concurrency: '101%' })).status).toBe(400);
    expect((await api('POST', '/v1/jobs', { content: 'true', targets: { selector: 'hostname:no-such-host' } })).body.error.message).toMatch(
      /matches no systems/,
    );
    const other = await api('POST', '/v1/organizations', { name: 'Other', slug: `other-${name}` });
    const foreign = await call(server.url, other.body.api_key, 'POST', '/v1/jobs', { content: 'true', targets: { selector: `id:${agents[0]!.systemId}` } });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.message).toMatch(/matches no systems/);
    expect((await call(server.url, other.body.api_key, 'GET', '/v1/systems?select=tag:web')).body.items).toEqual([]);
    expect((await call(server.url, undefined, 'GET', '/v1/systems?select=tag:web')).status).toBe(401);
  });
});
