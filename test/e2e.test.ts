import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { muster, startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';

/** Processes whose environment carries `marker` (how we find a run's children after the fact). */
function processesWithMarker(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker)) pids.push(Number(entry));
    } catch {
      // gone already, or not ours
    }
  }
  return pids;
}

describe.each(DATABASES)('end to end on $name: real server, two real agents, real shells', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let agents: AgentProcess[] = [];
  const api = (method: string, path: string, body?: unknown) => call(server.url, server.adminKey, method, path, body);

  async function connected(ids: string[]): Promise<boolean> {
    const { body } = await api('GET', '/v1/systems');
    const up = new Set(body.items.filter((s: { connected: boolean }) => s.connected).map((s: { id: string }) => s.id));
    return ids.every((id) => up.has(id));
  }

  async function finished(jobId: string): Promise<any> {
    return waitFor(
      async () => {
        const { body } = await api('GET', `/v1/jobs/${jobId}`);
        return body.done ? body : undefined;
      },
      `job ${jobId} to finish`,
      30_000,
    );
  }

  beforeAll(async () => {
    if (skip) return;
    db = await createTestDatabase(name);
    server = await startServerProcess(db);
    agents = [await startAgentProcess(server, ['e2e']), await startAgentProcess(server)];
    await waitFor(() => connected(agents.map((a) => a.systemId)), 'both agents to connect');
  });

  afterAll(async () => {
    for (const a of agents) await a.proc.stop();
    await server?.proc.stop();
    await db?.drop();
  });

  it.skipIf(skip)('returns stdout, stderr and the exit code of each system separately', async () => {
    const { status, body } = await api('POST', '/v1/jobs', {
      content: 'echo out; echo err >&2; exit 3',
      targets: { system_ids: agents.map((a) => a.systemId) },
    });
    expect(status).toBe(201);
    const job = await finished(body.job.id);
    expect(job).toMatchObject({ status: 'failed', counts: { failed: 2 } });
    for (const run of body.runs) {
      const { body: r } = await api('GET', `/v1/runs/${run.id}`);
      expect(r).toMatchObject({ state: 'failed', exit_code: 3, stdout: 'out\n', stderr: 'err\n', reason: 'exited with code 3' });
      expect(Date.parse(r.finished_at)).toBeGreaterThanOrEqual(Date.parse(r.started_at));
    }
  });

  it.skipIf(skip)('passes the job environment to the script without splicing it into the text', async () => {
    const tricky = '$(touch /tmp/pwned); `id`; "quoted"';
    const { body } = await api('POST', '/v1/jobs', {
      content: 'printf "%s|%s" "$GREETING" "$MUSTER_RUN_ID"',
      targets: { system_ids: [agents[0]!.systemId] },
      env: { GREETING: tricky },
    });
    await finished(body.job.id);
    const out = await call(server.url, server.adminKey, 'GET', `/v1/runs/${body.runs[0].id}/output?stream=stdout`);
    expect(out.text).toBe(`${tricky}|${body.runs[0].id}`);
  });

  it.skipIf(skip)('kills a timed-out run together with its children', async () => {
    const marker = `MUSTER_E2E_${randomUUID().replaceAll('-', '')}`;
    const { body } = await api('POST', '/v1/jobs', {
      content: "sh -c 'sleep 60 & sleep 60'",
      targets: { system_ids: [agents[1]!.systemId] },
      env: { E2E_MARKER: marker },
      timeout_s: 2,
    });
    await waitFor(async () => processesWithMarker(marker).length >= 3, 'the script and both sleeps to start');
    const job = await finished(body.job.id);
    expect(job.counts.timed_out).toBe(1);
    const { body: run } = await api('GET', `/v1/runs/${body.runs[0].id}`);
    expect(run.state).toBe('timed_out');
    expect(run.reason).toMatch(/timeout|2 s/);
    expect(processesWithMarker(marker)).toEqual([]);
  });

  it.skipIf(skip)('the CLI runs a command on all systems, prints the kernel, and exits non-zero on failure', async () => {
    const env = { MUSTER_SERVER: server.url, MUSTER_API_KEY: server.adminKey };
    const ok = await muster(['run', '--all', '--', 'uname', '-a'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.split(release()).length - 1).toBe(2);
    const bad = await muster(['run', '--system', agents[0]!.systemId, '--', 'echo nope >&2; exit 4'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('nope');
    const list = await muster(['systems', '--json'], env);
    expect(
      JSON.parse(list.stdout)
        .map((s: { id: string }) => s.id)
        .sort(),
    ).toEqual(agents.map((a) => a.systemId).sort());
    const denied = await muster(['systems'], { ...env, MUSTER_API_KEY: 'mk_wrong' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/API key/i);
  });

  it.skipIf(skip)('keeps a result that finished while the server was down, and delivers it after the restart', async () => {
    const { body } = await api('POST', '/v1/jobs', { content: 'sleep 2; echo survived', targets: { system_ids: [agents[0]!.systemId] } });
    const runId = body.runs[0].id;
    await waitFor(async () => (await api('GET', `/v1/runs/${runId}`)).body.state === 'running', 'the run to start');
    const stopped = await server.proc.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    // The run ends while no server is listening; the agent must keep its result on disk.
    const spooled = `${agents[0]!.stateDir}/spool/${runId}.json`;
    await waitFor(
      async () => {
        try {
          return JSON.parse(readFileSync(spooled, 'utf8')).state === 'finished';
        } catch {
          return false;
        }
      },
      'the agent to spool the finished result',
      15_000,
    );
    await server.restart();
    await waitFor(async () => (await api('GET', `/v1/runs/${runId}`)).body.state === 'succeeded', 'the spooled result to arrive', 40_000);
    expect((await api('GET', `/v1/runs/${runId}`)).body.stdout).toBe('survived\n');
    await waitFor(() => connected(agents.map((a) => a.systemId)), 'both agents to reconnect', 40_000);
  });

  it.skipIf(skip)('refuses an agent with a bad enrollment key', async () => {
    const result = await muster(['agent', 'enroll', '--server', server.url, '--enrollment-key', 'mek_bogus', '--state-dir', `${db.dataDir}/bogus-agent`]);
    expect(result.code).not.toBe(0);
    expect(result.stderr + result.stdout).toMatch(/enrollment key/i);
  });
});
