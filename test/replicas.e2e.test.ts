import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/store/index.js';
import { createTestDatabase, PG_URL, type TestDatabase } from './support/databases.js';
import { NGINX, startNginx, type Nginx } from './support/nginx.js';
import { freePort, startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';
import { exerciseShell, TerminalClient } from './support/terminal.js';

const skip = !PG_URL || !NGINX;
if (!NGINX) process.stdout.write('nginx is not installed: the multi-replica suite is skipped (apt-get install nginx-light)\n');

interface RunView {
  id: string;
  system_id: string;
  state: string;
  stdout: string;
}

/**
 * Three replicas on one PostgreSQL behind Debian's nginx, as
 * docs/deployment.md deploys them; agents enroll and connect through nginx.
 */
describe.skipIf(skip)('three replicas on PostgreSQL behind nginx', () => {
  let db: TestDatabase;
  let store: Database;
  const replicas: ServerProcess[] = [];
  let nginx: Nginx;
  const agents: AgentProcess[] = [];
  const key = () => replicas[0]!.adminKey;
  const api = (method: string, path: string, body?: unknown, via = nginx.url) => call(via, key(), method, path, body);

  async function holders(): Promise<Map<string, string>> {
    const rows = await store.db.selectFrom('systems').select(['id', 'replica_id']).where('connected', '=', 1).execute();
    return new Map(rows.filter((r) => r.replica_id).map((r) => [r.id, r.replica_id!]));
  }

  async function outputs(jobId: string, via = nginx.url): Promise<RunView[]> {
    const runs = (await api('GET', `/v1/jobs/${jobId}/runs`, undefined, via)).body.items as RunView[];
    return Promise.all(runs.map(async (r) => (await api('GET', `/v1/runs/${r.id}`, undefined, via)).body as RunView));
  }

  const ended = (jobId: string, timeoutMs = 30_000) => waitFor(async () => (await api('GET', `/v1/jobs/${jobId}`)).body.done, `job ${jobId} to end`, timeoutMs);

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    store = db.open();
    for (let i = 1; i <= 3; i++) {
      const first = replicas[0];
      replicas.push(
        await startServerProcess(db, {
          MUSTER_REPLICA_ID: `r${i}`,
          MUSTER_PEER_LISTEN: `127.0.0.1:${await freePort()}`,
          MUSTER_SCHEDULE_INTERVAL_MS: '100',
          MUSTER_SWEEP_INTERVAL_MS: '200',
          MUSTER_LOST_GRACE_S: '30',
          MUSTER_TRUST_PROXY: '127.0.0.1',
          ...(first ? { MUSTER_BOOTSTRAP_API_KEY: first.adminKey, MUSTER_BOOTSTRAP_ENROLLMENT_KEY: first.enrollmentKey } : {}),
        }),
      );
    }
    nginx = await startNginx(replicas.map((r) => `127.0.0.1:${r.port}`));
    // nginx hands each request to the next replica: six agents (an enrollment and a WebSocket each) cover all three.
    const through = { ...replicas[0]!, url: nginx.url };
    for (let i = 0; i < 9; i++) {
      agents.push(await startAgentProcess(through));
      await waitFor(async () => (await holders()).size === agents.length, `agent ${i} to connect`);
      if (i >= 5 && new Set((await holders()).values()).size === 3) break;
    }
  }, 180_000);

  afterAll(async () => {
    for (const agent of agents) await agent.proc.stop();
    await nginx?.stop();
    for (const r of replicas) await r.proc.stop();
    await store?.close();
    await db?.drop();
  });

  it('spreads the agents over the replicas, and a job launched on any replica reaches all of them', async () => {
    expect(new Set((await holders()).values())).toEqual(new Set(['r1', 'r2', 'r3']));
    const systemIds = agents.map((a) => a.systemId);
    for (const replica of replicas) {
      const marker = `from-${replica.port}-${randomUUID()}`;
      const { status, body } = await api('POST', '/v1/jobs', { content: `echo ${marker}`, targets: { system_ids: systemIds } }, replica.url);
      expect(status).toBe(201);
      await ended(body.job.id);
      const runs = await outputs(body.job.id);
      expect(runs.map((r) => [r.system_id, r.state, r.stdout]).sort()).toEqual(systemIds.map((id) => [id, 'succeeded', `${marker}\n`]).sort());
    }
  }, 60_000);

  it('opens shells through nginx on agents any replica holds, relayed by the replica the viewer reached', async () => {
    const held = await holders();
    let relayed = 0;
    // nginx hands each socket to the next replica: over the agents twice, some viewer lands elsewhere.
    for (const agent of [...agents, ...agents]) {
      if (relayed > 0) break;
      const opened = await api('POST', '/v1/sessions', { system_id: agent.systemId, cols: 80, rows: 24 });
      expect(opened.status, opened.text).toBe(201);
      // One more request first: nginx hands requests to the replicas in turn, and the agents were placed by the same turn.
      expect((await api('GET', `/v1/sessions/${opened.body.id}`)).status).toBe(200);
      const { exit, closeCode } = await exerciseShell(new TerminalClient(nginx.url, key(), opened.body.id));
      expect(exit).toMatchObject({ reason: 'exited', exit_code: 7 });
      expect(closeCode).toBe(1000);
      const attachedOn = await waitFor(
        async () => replicas.findIndex((r) => r.proc.stdout.includes(`"session_id":"${opened.body.id}","msg":"viewer attached"`)) + 1,
        'the attach to be logged',
      );
      if (`r${attachedOn}` !== held.get(agent.systemId)) relayed++;
    }
    expect(relayed).toBeGreaterThan(0);
  }, 60_000);

  it('fires a schedule once per slot across the replicas', async () => {
    const created = await api('POST', '/v1/commands', {
      name: `every-second-${randomUUID()}`,
      content: 'true',
      launch_type: 'repeated',
      schedule: '* * * * * *',
      default_targets: { system_ids: [agents[0]!.systemId] },
    });
    expect(created.status, created.text).toBe(201);
    const scheduled = async () =>
      ((await api('GET', '/v1/jobs?limit=200')).body.items as Array<{ script_id: string; created_by: string; source: string }>).filter(
        (j) => j.script_id === created.body.id && j.source === 'schedule',
      );
    await waitFor(async () => (await scheduled()).length >= 5, 'five fires', 30_000);
    expect((await api('DELETE', `/v1/commands/${created.body.id}`)).status).toBe(204);
    const fires = (await scheduled()).map((j) => j.created_by);
    // Each fire's job is labelled with its slot: a slot fired twice would appear twice.
    expect(new Set(fires).size).toBe(fires.length);
  }, 60_000);

  it('a replica SIGKILLed mid-job: its agents reconnect through nginx to the others, and every run ends once', async () => {
    const held = await holders();
    const victimId = [...new Set(held.values())].sort()[0]!;
    const victim = replicas[Number(victimId.slice(1)) - 1]!;
    const survivor = replicas.find((r) => r !== victim)!;
    const dir = mkdtempSync(join(tmpdir(), 'muster-replicas-'));
    const systemIds = agents.map((a) => a.systemId);
    const { body } = await api(
      'POST',
      '/v1/jobs',
      { content: `echo start >> ${dir}/$MUSTER_RUN_ID; sleep 2; echo done >> ${dir}/$MUSTER_RUN_ID; echo finished`, targets: { system_ids: systemIds } },
      survivor.url,
    );
    await waitFor(
      async () => ((await api('GET', `/v1/jobs/${body.job.id}/runs`, undefined, survivor.url)).body.items as RunView[]).every((r) => r.state === 'running'),
      'every run to start',
    );
    await victim.proc.stop('SIGKILL');
    await ended(body.job.id, 60_000);
    const runs = await outputs(body.job.id, survivor.url);
    expect(runs.map((r) => [r.system_id, r.state, r.stdout]).sort()).toEqual(systemIds.map((id) => [id, 'succeeded', 'finished\n']).sort());
    for (const run of runs) expect(readFileSync(join(dir, run.id), 'utf8')).toBe('start\ndone\n');
    rmSync(dir, { recursive: true, force: true });
    await waitFor(
      async () => {
        const now = await holders();
        return now.size === agents.length && [...now.values()].every((r) => r !== victimId);
      },
      "the dead replica's agents to reconnect to the others",
      30_000,
    );
    await victim.restart();
  }, 90_000);
});
