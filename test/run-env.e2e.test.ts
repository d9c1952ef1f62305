import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';

describe.each(DATABASES)('per-run environment end to end on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let agents: AgentProcess[] = [];
  const api = (method: string, path: string, body?: unknown) => call(server.url, server.adminKey, method, path, body);
  const jobCount = async () => (await api('GET', '/v1/jobs?limit=500')).body.items.length;

  /** Each system's stdout once the job is done. */
  async function outputs(jobId: string): Promise<Record<string, string>> {
    await waitFor(async () => (await api('GET', `/v1/jobs/${jobId}`)).body.done, `job ${jobId} to finish`);
    const runs = (await api('GET', `/v1/jobs/${jobId}/runs`)).body.items as Array<{ id: string; system_id: string; state: string }>;
    const out: Record<string, string> = {};
    for (const r of runs) {
      expect(r.state).toBe('succeeded');
      out[r.system_id] = (await api('GET', `/v1/runs/${r.id}`)).body.stdout;
    }
    return out;
  }

  beforeAll(async () => {
    if (skip) return;
    db = await createTestDatabase(name);
    server = await startServerProcess(db);
    agents = [await startAgentProcess(server), await startAgentProcess(server)];
    await waitFor(async () => {
      const { body } = await api('GET', '/v1/systems');
      return agents.every((a) => body.items.some((s: { id: string; connected: boolean }) => s.id === a.systemId && s.connected));
    }, 'two agents to connect');
  });

  afterAll(async () => {
    for (const a of agents) await a.proc.stop();
    await server?.proc.stop();
    await db?.drop();
  });

  it.skipIf(skip)('one job gives each system its own value, over the job env', async () => {
    const [a, b] = agents.map((x) => x.systemId) as [string, string];
    const { status, body } = await api('POST', '/v1/jobs', {
      content: 'echo "$COLOR $SHAPE"',
      targets: { system_ids: [a, b] },
      env: { COLOR: 'grey', SHAPE: 'square' },
      run_env: { [a]: { COLOR: 'red' }, [b]: { COLOR: 'blue', SHAPE: 'round' } },
    });
    expect(status).toBe(201);
    expect(body.job.env).toEqual({ COLOR: 'grey', SHAPE: 'square' });
    expect(await outputs(body.job.id)).toEqual({ [a]: 'red square\n', [b]: 'blue round\n' });
  });

  it.skipIf(skip)('a saved script launched with run_env prints each system its own value', async () => {
    const [a, b] = agents.map((x) => x.systemId) as [string, string];
    const script = await api('POST', '/v1/scripts', { name: 'color', content: 'echo "$COLOR"', default_targets: { system_ids: [a, b] } });
    expect(script.status).toBe(201);
    const { status, body } = await api('POST', '/v1/jobs', { script: 'color', run_env: { [a]: { COLOR: 'red' }, [b]: { COLOR: 'green' } } });
    expect(status).toBe(201);
    expect(body.job.script_id).toBe(script.body.id);
    expect(await outputs(body.job.id)).toEqual({ [a]: 'red\n', [b]: 'green\n' });
  });

  it.skipIf(skip)('a command run now with run_env prints each system its own value', async () => {
    const [a, b] = agents.map((x) => x.systemId) as [string, string];
    const command = await api('POST', '/v1/commands', { name: 'shade', content: 'echo "$SHADE"', default_targets: { system_ids: [a, b] } });
    expect(command.status).toBe(201);
    const { status, body } = await api('POST', `/v1/commands/${command.body.id}/run`, { env: { SHADE: 'pale' }, run_env: { [b]: { SHADE: 'dark' } } });
    expect(status).toBe(201);
    expect(await outputs(body.job.id)).toEqual({ [a]: 'pale\n', [b]: 'dark\n' });
    const outside = await api('POST', `/v1/commands/${command.body.id}/run`, { system_ids: [a], run_env: { [b]: { SHADE: 'dark' } } });
    expect(outside.status).toBe(400);
    expect(outside.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(`run_env.${b}`) });
  });

  it.skipIf(skip)('a denied name or a system outside the targets is a 400 naming it, and nothing is launched', async () => {
    const [a, b] = agents.map((x) => x.systemId) as [string, string];
    const before = await jobCount();
    for (const body of [
      { content: 'echo "$COLOR"', targets: { system_ids: [a, b] }, run_env: { [b]: { BASH_ENV: '/tmp/x' } } },
      { script: 'color', run_env: { [a]: { COLOR: 'red', LD_PRELOAD: '/tmp/x.so' } } },
    ]) {
      const denied = await api('POST', '/v1/jobs', body);
      const variable = Object.keys(Object.values(body.run_env)[0]!).at(-1)!;
      expect(denied.status).toBe(400);
      expect(denied.body.error).toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining(`.${variable}: ${variable} changes how the script runs`),
      });
    }
    const outside = await api('POST', '/v1/jobs', { content: 'true', targets: { system_ids: [a] }, run_env: { [b]: { COLOR: 'blue' } } });
    expect(outside.status).toBe(400);
    expect(outside.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(`run_env.${b}`) });
    expect(await jobCount()).toBe(before);
  });
});
