import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOnPath } from '../src/agent/executor.js';
import { signTrigger } from '../src/core/commands/index.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { muster, startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';

/** The shells a script can be, with a script that prints a variable, and what would hijack each before that line runs. */
const SHELLS = [
  { shell: 'bash', programs: ['bash'], content: 'echo "srcip=$srcip alert=$alert"', attack: (m: string) => ({ BASH_ENV: `$(touch ${m})` }) },
  { shell: 'sh', programs: ['sh'], content: 'echo "srcip=$srcip alert=$alert"', attack: (m: string) => ({ ENV: `$(touch ${m})` }) },
  { shell: 'zsh', programs: ['zsh'], content: 'echo "srcip=$srcip alert=$alert"', attack: (m: string) => ({ ZDOTDIR: m }) },
  {
    shell: 'python3',
    programs: ['python3'],
    content: "import os\nprint(f\"srcip={os.environ['srcip']} alert={os.environ['alert']}\")",
    attack: (m: string) => ({ PYTHONPATH: m }),
  },
  {
    shell: 'powershell',
    programs: ['pwsh', 'powershell'],
    content: 'Write-Output "srcip=$env:srcip alert=$env:alert"',
    attack: (m: string) => ({ PSModulePath: m }),
  },
].filter((s) => s.programs.some((p) => findOnPath(p, process.env.PATH)));

/** Variables that change every shell's run: where commands come from, and what the loader injects. */
const ANY_SHELL = (m: string) => [
  { PATH: m },
  { LD_PRELOAD: `${m}.so` },
  { SHELLOPTS: 'xtrace', PS4: `$(touch ${m})` },
  { HOME: m },
  { NODE_OPTIONS: `--require ${m}` },
];

describe.each(DATABASES)('a run environment that would change how the script runs, on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let agent: AgentProcess;
  let markers: string;
  const api = (method: string, path: string, body?: unknown) => call(server.url, server.adminKey, method, path, body);
  const jobCount = async () => (await api('GET', '/v1/jobs?limit=500')).body.items.length;
  const signed = (trigger: string, secret: string, body: string) => {
    const t = Math.floor(Date.now() / 1000);
    return call(server.url, undefined, 'POST', `/api/command/trigger/${trigger}`, body, {
      'content-type': 'application/json',
      'x-muster-signature': `t=${t},v1=${signTrigger(secret, t, body)}`,
    });
  };

  beforeAll(async () => {
    if (skip) return;
    markers = mkdtempSync(join(tmpdir(), 'muster-env-markers-'));
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

  it.skipIf(skip || SHELLS.length === 0).each(SHELLS)(
    '$shell: a signed trigger call with such a variable is a 400 naming it, and nothing runs; ordinary variables still arrive',
    async ({ shell, content, attack }) => {
      const trigger = `env-${shell}`;
      const command = await api('POST', '/v1/commands', {
        name: trigger,
        content,
        shell,
        launch_type: 'trigger',
        trigger,
        default_targets: { system_ids: [agent.systemId] },
      });
      expect(command.status).toBe(201);
      const { secret } = (await api('POST', '/v1/triggers', { name: trigger, secret: true })).body;
      const marker = join(markers, shell);
      const before = await jobCount();

      for (const env of [attack(marker), ...ANY_SHELL(marker)]) {
        const first = Object.keys(env)[0]!;
        // The caller holds the trigger's secret and no API key: exactly who must only be able to pass data.
        const viaJumpCloud = await signed(trigger, secret, JSON.stringify({ srcip: '10.0.0.1', ...env }));
        expect(viaJumpCloud.status, `${first} through the JumpCloud trigger`).toBe(400);
        expect(viaJumpCloud.body).toMatchObject({
          error: 'INVALID_ARGUMENT',
          message: expect.stringContaining(`body.${first}: ${first} changes how the script runs`),
        });
        const viaNative = await api('POST', `/v1/triggers/${trigger}/fire`, env);
        expect(viaNative.status).toBe(400);
        expect(viaNative.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(`body.${first}:`) });
        const launch = await api('POST', '/v1/jobs', { content, shell, targets: { system_ids: [agent.systemId] }, env });
        expect(launch.status).toBe(400);
        expect(launch.body.error).toMatchObject({
          code: 'INVALID_ARGUMENT',
          message: expect.stringContaining(`env.${first}: ${first} changes how the script runs`),
        });
        const runNow = await api('POST', `/v1/commands/${command.body.id}/run`, { env });
        expect(runNow.status).toBe(400);
        expect(runNow.body.error.message).toContain(`env.${first}:`);
      }
      // Refused before anything was written: no job exists, so no agent was ever asked to run anything.
      expect(await jobCount()).toBe(before);
      expect(existsSync(marker)).toBe(false);

      const ok = await signed(trigger, secret, JSON.stringify({ srcip: '10.0.0.1', alert: 'disk full' }));
      expect(ok.status).toBe(200);
      const jobId = ok.body.jobs[0].jobId;
      const job = await waitFor(
        async () => {
          const { body } = await api('GET', `/v1/jobs/${jobId}`);
          return body.done ? body : undefined;
        },
        `job ${jobId} to finish`,
        30_000,
      );
      expect(job.status).toBe('succeeded');
      const [run] = (await api('GET', `/v1/jobs/${jobId}/runs`)).body.items;
      expect((await api('GET', `/v1/runs/${run.id}`)).body.stdout).toBe('srcip=10.0.0.1 alert=disk full\n');
    },
  );

  it.skipIf(skip)('`muster run --env BASH_ENV=…` fails naming the variable, and launches nothing', async () => {
    const before = await jobCount();
    const marker = join(markers, 'cli');
    const result = await muster(['run', '--system', agent.systemId, '--env', `BASH_ENV=$(touch ${marker})`, '--', 'true'], {
      MUSTER_SERVER: server.url,
      MUSTER_API_KEY: server.adminKey,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('env.BASH_ENV: BASH_ENV changes how the script runs');
    expect(await jobCount()).toBe(before);
    expect(existsSync(marker)).toBe(false);
  });
});
