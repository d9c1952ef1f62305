import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOnPath } from '../src/agent/executor.js';
import { newId } from '../src/core/ids.js';
import { createStores } from '../src/store/index.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';

/** Per shell, a variable that would run the marker command before the script's first line. */
const ATTACKS = [
  { shell: 'bash', env: (m: string) => ({ BASH_ENV: `$(touch ${m})` }) },
  { shell: 'sh', env: (m: string) => ({ ENV: `$(touch ${m})` }) },
  { shell: 'zsh', env: (m: string) => ({ ZDOTDIR: m }) },
  { shell: 'python3', env: (m: string) => ({ PYTHONSTARTUP: m }) },
].filter((a) => findOnPath(a.shell, process.env.PATH));

describe.each(DATABASES)('the agent refuses a run whose environment would change how it runs, on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let agent: AgentProcess;
  let markers: string;
  const api = (method: string, path: string, body?: unknown) => call(server.url, server.adminKey, method, path, body);

  /**
   * Stores a job as a server without the deny list (an older version, during
   * an upgrade) would have: straight into the database, past the API's check.
   */
  async function storeJobDirectly(shell: string, content: string, env: Record<string, string>): Promise<{ jobId: string; runId: string }> {
    const database = db.open();
    try {
      const { organizationId } = JSON.parse(readFileSync(join(agent.stateDir, 'agent.conf'), 'utf8')) as { organizationId: string };
      const now = new Date();
      const jobId = newId();
      const runId = newId();
      await createStores(database).jobs.insertJob(
        {
          id: jobId,
          organizationId,
          source: 'api',
          shell,
          content,
          env,
          timeoutS: 30,
          ttlS: 600,
          runAs: null,
          selector: null,
          maxConcurrency: null,
          maxErrors: null,
          total: 1,
          stoppedReason: null,
          retryOf: null,
          scriptId: null,
          createdBy: 'an older server',
          createdAt: now.toISOString(),
          finishedAt: null,
        },
        [{ id: runId, systemId: agent.systemId, deliverDeadline: new Date(now.getTime() + 600_000).toISOString() }],
      );
      return { jobId, runId };
    } finally {
      await database.close();
    }
  }

  beforeAll(async () => {
    if (skip) return;
    markers = mkdtempSync(join(tmpdir(), 'muster-agent-env-'));
    db = await createTestDatabase(name);
    server = await startServerProcess(db);
    agent = await startAgentProcess(server);
    await waitFor(
      async () => (await api('GET', '/v1/systems')).body.items.some((s: { id: string; connected: boolean }) => s.id === agent.systemId && s.connected),
      'the agent to connect',
    );
  });

  afterAll(async () => {
    await agent?.proc.stop();
    await server?.proc.stop();
    await db?.drop();
    if (markers) rmSync(markers, { recursive: true, force: true });
  });

  it.skipIf(skip || ATTACKS.length === 0).each(ATTACKS)(
    '$shell: the script never starts, and the run fails naming the variable and why',
    async ({ shell, env }) => {
      const hijacked = join(markers, `${shell}-hijacked`);
      const ran = join(markers, `${shell}-ran`);
      const content = shell === 'python3' ? `open(${JSON.stringify(ran)}, 'w').close()` : `touch ${ran}`;
      const attack = env(hijacked);
      const variable = Object.keys(attack)[0]!;
      const { jobId, runId } = await storeJobDirectly(shell, content, { GREETING: 'hello', ...attack });
      // The poll (every 5 s) finds the job no launch announced.
      await waitFor(async () => (await api('GET', `/v1/jobs/${jobId}`)).body.done, 'the run to end', 20_000);
      const run = (await api('GET', `/v1/runs/${runId}`)).body;
      expect(run.state).toBe('failed');
      expect(run.started_at).toBeNull();
      expect(run.reason).toMatch(
        new RegExp(
          `^the agent refused to run this script: its environment sets ${variable}: ${variable} changes how the script runs, so a caller may not set it: `,
        ),
      );
      expect(existsSync(ran)).toBe(false);
      expect(existsSync(hijacked)).toBe(false);
    },
  );

  it.skipIf(skip)("the same script with data variables only runs, and the agent's PATH and HOME are the script's", async () => {
    const { jobId, runId } = await storeJobDirectly('sh', 'echo "$GREETING $PATH $HOME"', { GREETING: 'hello' });
    await waitFor(async () => (await api('GET', `/v1/jobs/${jobId}`)).body.done, 'the run to end', 20_000);
    const run = (await api('GET', `/v1/runs/${runId}`)).body;
    // The tests give each agent its state dir as HOME (test/support/processes.ts).
    expect(run).toMatchObject({ state: 'succeeded', stdout: `hello ${process.env.PATH} ${agent.stateDir}\n` });
  });
});
