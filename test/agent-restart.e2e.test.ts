import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';
import { readSse } from './support/sse.js';

/** Live processes whose environment carries `marker` (a script and its children). */
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

const STOPPED =
  /^the agent restarted while this run was in progress; its script was still running, so the agent stopped it \(process group \d+: SIGTERM, then SIGKILL after 5 s\)$/;

describe.each(DATABASES)('an agent killed mid-run, on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let agent: AgentProcess;
  const api = (method: string, path: string, body?: unknown) => call(server.url, server.adminKey, method, path, body);
  const auth = () => ({ authorization: `Bearer ${server.adminKey}` });

  async function connected(want: boolean): Promise<boolean> {
    const { body } = await api('GET', '/v1/systems');
    return body.items.some((s: { id: string; connected: boolean }) => s.id === agent.systemId && s.connected === want);
  }

  /** Launches `content` on the agent; resolves with the run once its live output holds `text`. */
  async function launchUntilOutput(
    content: string,
    text: string,
    extra: Record<string, unknown> = {},
  ): Promise<{ jobId: string; runId: string; marker: string }> {
    const marker = `MUSTER_E2E_${randomUUID().replaceAll('-', '')}`;
    const { status, body } = await api('POST', '/v1/jobs', { content, targets: { system_ids: [agent.systemId] }, env: { MARK: marker }, ...extra });
    expect(status).toBe(201);
    const runId = body.runs[0].id as string;
    let seen = '';
    await readSse(`${server.url}/v1/runs/${runId}/events`, auth(), (e) => e.event === 'output' && (seen += e.data.data).includes(text));
    return { jobId: body.job.id, runId, marker };
  }

  async function ended(jobId: string): Promise<void> {
    await waitFor(async () => (await api('GET', `/v1/jobs/${jobId}`)).body.done, `job ${jobId} to end`, 30_000);
  }

  async function killAgent(): Promise<void> {
    await agent.proc.stop('SIGKILL');
    await waitFor(() => connected(false), 'the server to see the agent gone');
  }

  beforeAll(async () => {
    if (skip) return;
    db = await createTestDatabase(name);
    // A second of grace past the timeout: the sweep ends a run lost soon after its agent vanished.
    server = await startServerProcess(db, { MUSTER_LOST_GRACE_S: '1', MUSTER_SWEEP_INTERVAL_MS: '200' });
    agent = await startAgentProcess(server);
    await waitFor(() => connected(true), 'the agent to connect');
  });

  afterAll(async () => {
    await agent?.proc.stop();
    await server?.proc.stop();
    await db?.drop();
  });

  it.skipIf(skip)('on restart the agent stops the script it left running; the run ends lost, once, with what it printed and why', async () => {
    const once = join(tmpdir(), `muster-once-${randomUUID()}`);
    const { jobId, runId, marker } = await launchUntilOutput(`echo ran >> ${once}; echo start; echo warn >&2; sleep 60 & sleep 60; echo never`, 'start', {
      timeout_s: 300,
    });
    await killAgent();
    // Without the agent nothing stops the script: it is an orphan now.
    expect(withMarker(marker).length).toBeGreaterThanOrEqual(2);
    agent.restart();
    await waitFor(async () => withMarker(marker).length === 0, 'the orphaned script and its child to be gone');
    await ended(jobId);
    const run = (await api('GET', `/v1/runs/${runId}`)).body;
    expect(run).toMatchObject({ state: 'lost', stdout: 'start\n', stderr: 'warn\n' });
    expect(run.reason).toMatch(STOPPED);
    expect((await api('GET', `/v1/runs/${runId}/output`)).text).toBe('start\n');
    expect(readFileSync(once, 'utf8')).toBe('ran\n');
    await waitFor(() => connected(true), 'the agent to be back');
  });

  it.skipIf(skip)("a run the server already ended lost keeps its streamed output, and the agent's later report is accepted", async () => {
    const { jobId, runId, marker } = await launchUntilOutput('echo start; sleep 60', 'start', { timeout_s: 2 });
    await killAgent();
    await ended(jobId);
    const swept = (await api('GET', `/v1/runs/${runId}`)).body;
    expect(swept).toMatchObject({ state: 'lost', stdout: 'start\n', reason: expect.stringMatching(/went away/) });
    expect((await api('GET', `/v1/runs/${runId}/output`)).text).toBe('start\n');
    expect(withMarker(marker).length).toBeGreaterThanOrEqual(1);

    agent.restart();
    await waitFor(async () => STOPPED.test((await api('GET', `/v1/runs/${runId}`)).body.reason), "the agent's report to replace the reason");
    expect(withMarker(marker)).toEqual([]);
    const reported = (await api('GET', `/v1/runs/${runId}`)).body;
    expect(reported).toMatchObject({ state: 'lost', stdout: 'start\n' });
    expect((await api('GET', `/v1/jobs/${jobId}`)).body.counts).toMatchObject({ lost: 1 });
    // Accepted: the server acknowledged it, so the agent keeps only a tombstone.
    await waitFor(async () => existsSync(join(agent.stateDir, 'spool', `${runId}.acked`)), 'the report to be acknowledged');
  });

  it.skipIf(skip)('output printed while the server was away and never sent arrives when the agent comes back', async () => {
    const go = join(tmpdir(), `muster-go-${randomUUID()}`);
    const { jobId, runId } = await launchUntilOutput(`echo start; while [ ! -e ${go} ]; do sleep 0.1; done; echo while-away; sleep 60`, 'start', {
      timeout_s: 300,
    });
    await server.proc.stop();
    writeFileSync(go, '');
    // Only the agent's spool knows what was printed after the server went away.
    const copy = join(agent.stateDir, 'spool', `${runId}.stdout`);
    await waitFor(async () => existsSync(copy) && readFileSync(copy, 'utf8').includes('while-away'), 'the agent to read the line');
    await agent.proc.stop('SIGKILL');
    await server.restart();
    agent.restart();
    await ended(jobId);
    const run = (await api('GET', `/v1/runs/${runId}`)).body;
    expect(run).toMatchObject({ state: 'lost', stdout: 'start\nwhile-away\n' });
    expect(run.reason).toMatch(STOPPED);
  });
});
