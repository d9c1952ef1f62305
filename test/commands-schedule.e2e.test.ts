import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../src/config/server.js';
import { startServer, type RunningServer } from '../src/server.js';
import { FakeClock } from './support/core.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { freePort, startAgentProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';

/**
 * Schedules on an injected clock: a real server in this process (so the test
 * holds its scheduler's clock) and a real agent process running the jobs.
 */
describe.each(DATABASES)('scheduled commands end to end on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: RunningServer | undefined;
  let agent: AgentProcess;
  let url: string;
  const clock = new FakeClock(new Date());
  const adminKey = `mk_sched_${randomBytes(16).toString('hex')}`;
  const enrollmentKey = `mek_sched_${randomBytes(16).toString('hex')}`;
  const api = (method: string, path: string, body?: unknown) => call(url, adminKey, method, path, body);

  async function start(port: number): Promise<void> {
    const config = loadServerConfig(
      {
        listen: `127.0.0.1:${port}`,
        data_dir: db.dataDir,
        database_url: db.url,
        log_level: 'silent',
        bootstrap_api_key: adminKey,
        bootstrap_enrollment_key: enrollmentKey,
        schedule_interval_ms: 50,
      },
      {},
    );
    server = await startServer(config, undefined, { scheduleClock: clock });
    url = server.url;
  }

  async function scheduledJobs(commandId: string): Promise<any[]> {
    return (await api('GET', '/v1/jobs?limit=500')).body.items.filter(
      (j: { source: string; script_id: string }) => j.source === 'schedule' && j.script_id === commandId,
    );
  }

  const jobCount = (commandId: string, n: number) => waitFor(async () => (await scheduledJobs(commandId)).length >= n, `${n} scheduled jobs`);

  beforeAll(async () => {
    if (skip) return;
    db = await createTestDatabase(name);
    await start(await freePort());
    agent = await startAgentProcess({ url, enrollmentKey } as ServerProcess);
  });

  afterAll(async () => {
    await agent?.proc.stop();
    await server?.stop();
    await db?.drop();
  });

  it.skipIf(skip)('fires on the clock, survives a restart without doubling, and runs missed slots once at start-up', async () => {
    const created = await call(
      url,
      undefined,
      'POST',
      '/api/commands',
      {
        name: 'backup',
        command: 'echo backup',
        commandType: 'linux',
        launchType: 'repeated',
        schedule: '0 */5 * * * *',
      },
      { 'x-api-key': adminKey },
    );
    expect(created.status).toBe(200);
    const id = created.body._id;
    await call(url, undefined, 'POST', `/api/v2/commands/${id}/associations`, { op: 'add', type: 'system', id: agent.systemId }, { 'x-api-key': adminKey });
    const firstSlot = Date.parse(created.body.nextFireAt);
    expect(await scheduledJobs(id)).toEqual([]);

    clock.current = new Date(firstSlot);
    await jobCount(id, 1);
    const [job] = await scheduledJobs(id);
    await waitFor(async () => (await api('GET', `/v1/jobs/${job.id}`)).body.done, 'the scheduled job to finish');
    expect((await api('GET', `/v1/jobs/${job.id}`)).body.status).toBe('succeeded');

    // Restart at the same instant: the fired slot is not fired again. The next slot's job
    // comes after the start-up tick, so two jobs (not three) prove no doubling.
    const port = Number(new URL(url).port);
    await server!.stop();
    await start(port);
    clock.advance(5 * 60_000);
    await jobCount(id, 2);
    expect(await scheduledJobs(id)).toHaveLength(2);

    // Down for 30 minutes: six missed slots run once at start-up.
    await server!.stop();
    clock.advance(30 * 60_000);
    await start(port);
    await jobCount(id, 3);
    clock.advance(5 * 60_000);
    await jobCount(id, 4);
    expect(await scheduledJobs(id)).toHaveLength(4);
    const command = await api('GET', `/v1/commands/${id}`);
    expect(Date.parse(command.body.next_fire_at)).toBeGreaterThan(clock.now().getTime());
    const last = (await scheduledJobs(id))[0];
    await waitFor(async () => (await api('GET', `/v1/jobs/${last.id}`)).body.done, 'the last scheduled job to finish', 40_000);
    expect((await api('GET', `/v1/jobs/${last.id}`)).body.status).toBe('succeeded');
  });
});
