import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { readContent } from './scripts.js';
import { apiError } from './testing/fake-api.js';
import { useCliHarness } from './testing/harness.js';

const h = useCliHarness();
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'muster-cli-scripts-'));
});

const withKey = (url: string) => ['--server', url, '--api-key', 'mk_test'];
const script = {
  id: 'aaaaaaaaaaaaaaaaaaaaaaaa',
  name: 'cleanup',
  content: 'rm -rf /tmp/cache\n',
  shell: 'bash',
  run_as: null,
  timeout_s: 120,
  ttl_s: 3600,
  default_targets: { system_ids: [], group_ids: ['web'], selector: null },
  updated_at: new Date().toISOString(),
};

describe('muster scripts', () => {
  it('adds a script from --file with its settings and default targets', async () => {
    const file = join(dir, 'cleanup.sh');
    writeFileSync(file, 'rm -rf /tmp/cache\n');
    const url = await h.serve({ 'POST /v1/scripts': () => ({ status: 201, json: script }) });
    expect(
      await h.muster(
        'scripts',
        'add',
        ...withKey(url),
        '--name',
        'cleanup',
        '--file',
        file,
        '--shell',
        'sh',
        '--run-as',
        'ops',
        '--timeout',
        '30',
        '--ttl',
        '60',
        '--group',
        'web',
        '--select',
        'tag:x',
      ),
    ).toBe(0);
    expect(h.api.seen[0]!.body).toEqual({
      name: 'cleanup',
      content: 'rm -rf /tmp/cache\n',
      shell: 'sh',
      run_as: 'ops',
      timeout_s: 30,
      ttl_s: 60,
      default_targets: { system_ids: [], group_ids: ['web'], selector: 'tag:x' },
    });
    expect(h.stdout).toBe(`saved script cleanup (${script.id})\n`);
  });

  it('reads content from stdin when it is not a terminal, or from --file -', async () => {
    const stdin = Object.assign(Readable.from([Buffer.from('echo piped\n')]), { isTTY: false }) as unknown as NodeJS.ReadStream;
    expect(await readContent(undefined, true, stdin)).toBe('echo piped\n');
    const dash = Object.assign(Readable.from([Buffer.from('echo dash')]), { isTTY: true }) as unknown as NodeJS.ReadStream;
    expect(await readContent('-', false, dash)).toBe('echo dash');
    const tty = Object.assign(Readable.from([]), { isTTY: true }) as unknown as NodeJS.ReadStream;
    expect(await readContent(undefined, true, tty)).toBeUndefined();
    await expect(readContent(join(dir, 'missing.sh'), true, tty)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/no such file/) });
  });

  it('lists as a table or as JSON, and shows the content alone', async () => {
    const url = await h.serve({ 'GET /v1/scripts': () => ({ json: { items: [script] } }), [`GET /v1/scripts/cleanup`]: () => ({ json: script }) });
    expect(await h.muster('scripts', 'list', ...withKey(url))).toBe(0);
    expect(h.stdout.split('\n')[0]).toBe('ID                        NAME     SHELL  TARGETS    UPDATED');
    expect(h.stdout.split('\n')[1]).toMatch(/^aaaaaaaaaaaaaaaaaaaaaaaa  cleanup  bash   group:web  \d+s ago$/);
    h.stdout = '';
    expect(await h.muster('scripts', 'list', ...withKey(url), '--json')).toBe(0);
    expect(JSON.parse(h.stdout)).toEqual([script]);
    h.stdout = '';
    expect(await h.muster('scripts', 'show', 'cleanup', ...withKey(url))).toBe(0);
    expect(h.stdout).toBe('rm -rf /tmp/cache\n');
  });

  it('edits only the fields given, by name; rm deletes by id', async () => {
    const url = await h.serve({
      'GET /v1/scripts/cleanup': () => ({ json: script }),
      [`PATCH /v1/scripts/${script.id}`]: (req) => ({ json: { ...script, ...(req.body as object) } }),
      [`DELETE /v1/scripts/${script.id}`]: () => ({ status: 204 }),
    });
    expect(await h.muster('scripts', 'edit', 'cleanup', ...withKey(url), '--timeout', '5', '--system', 's1,s2')).toBe(0);
    expect(h.api.seen[1]!.body).toEqual({ timeout_s: 5, default_targets: { system_ids: ['s1', 's2'], group_ids: [], selector: null } });
    expect(h.stdout).toBe('updated script cleanup (timeout_s, default_targets)\n');
    h.stdout = '';
    expect(await h.muster('scripts', 'rm', 'cleanup', ...withKey(url))).toBe(0);
    expect(h.api.seen[3]).toMatchObject({ method: 'DELETE', path: `/v1/scripts/${script.id}` });
    expect(h.stdout).toBe('deleted script cleanup\n');
  });

  it('makes an edit without changes a usage error, and reports a missing script', async () => {
    const url = await h.serve({ 'GET /v1/scripts/nope': () => apiError(404, 'NOT_FOUND', 'script nope not found') });
    expect(await h.muster('scripts', 'edit', 'nope', ...withKey(url))).toBe(2);
    expect(h.stderr).toMatch(/nothing to change/);
    expect(h.api.seen).toEqual([]);
    h.stderr = '';
    expect(await h.muster('scripts', 'show', 'nope', ...withKey(url))).toBe(1);
    expect(h.stderr).toBe('error: script nope not found\n');
  });
});

describe('muster run --script', () => {
  const job = {
    id: 'j1',
    status: 'running',
    done: false,
    total: 1,
    counts: { pending: 1 },
    source: 'cli',
    created_at: '2026-11-23T12:00:00Z',
    finished_at: null,
  };

  it("launches a saved script by name, with the script's targets unless given", async () => {
    const url = await h.serve({ 'POST /v1/jobs': () => ({ status: 201, json: { job, runs: [] } }) });
    expect(await h.muster('run', ...withKey(url), '--script', 'cleanup', '--detach')).toBe(0);
    expect(h.api.seen[0]!.body).toEqual({ script: 'cleanup' });
    expect(await h.muster('run', ...withKey(url), '--script', 'cleanup', '--system', 's1', '--env', 'A=1', '--detach')).toBe(0);
    expect(h.api.seen[1]!.body).toEqual({ script: 'cleanup', targets: { system_ids: ['s1'] }, env: { A: '1' } });
  });

  it('refuses a script and a command together, or neither', async () => {
    const url = await h.serve({});
    expect(await h.muster('run', ...withKey(url), '--script', 'cleanup', '--', 'echo', 'hi')).toBe(2);
    expect(h.stderr).toMatch(/either --script NAME or a command/);
    h.stderr = '';
    process.exitCode = undefined;
    expect(await h.muster('run', ...withKey(url), '--all')).toBe(2);
    expect(h.stderr).toMatch(/give a command after --, or --script NAME/);
    expect(h.api.seen).toEqual([]);
  });
});

describe('muster trigger and commands', () => {
  it('fires a trigger with --data and an idempotency key, printing each job', async () => {
    const url = await h.serve({
      'POST /v1/triggers/disk-full/fire': () => ({
        json: { triggered: ['c1'], jobs: [{ command_id: 'c1', job_id: 'j1' }], skipped: [{ command_id: 'c2', reason: 'no targets' }], replayed: false },
      }),
    });
    expect(await h.muster('trigger', 'disk-full', ...withKey(url), '--data', '{"srcip":"10.0.0.1"}', '--idempotency-key', 'k1')).toBe(0);
    expect(h.api.seen[0]!.body).toEqual({ srcip: '10.0.0.1' });
    expect(h.api.seen[0]!.headers['idempotency-key']).toBe('k1');
    expect(h.stdout).toBe('command c1: job j1\n');
    expect(h.stderr).toBe('command c2 skipped: no targets\n');
  });

  it('makes bad --data a usage error and an unknown trigger an error', async () => {
    const url = await h.serve({ 'POST /v1/triggers/nope/fire': () => apiError(404, 'NOT_FOUND', 'no command has the trigger nope') });
    expect(await h.muster('trigger', 'x', ...withKey(url), '--data', '[1]')).toBe(2);
    expect(h.stderr).toMatch(/must be a JSON object/);
    h.stderr = '';
    process.exitCode = undefined;
    expect(await h.muster('trigger', 'nope', ...withKey(url))).toBe(1);
    expect(h.stderr).toBe('error: no command has the trigger nope\n');
  });

  it('creates a trigger with a secret printed once, lists, rotates and deletes it', async () => {
    const trigger = { id: 't1', name: 'disk-full', has_secret: true, created_at: '2026-11-23T12:00:00Z' };
    const url = await h.serve({
      'POST /v1/triggers': () => ({ status: 201, json: { trigger, secret: 'mts_secret' } }),
      'GET /v1/triggers': () => ({ json: { items: [trigger] } }),
      'POST /v1/triggers/disk-full/rotate-secret': () => ({ json: { secret: 'mts_new' } }),
      'DELETE /v1/triggers/disk-full': () => ({ status: 204 }),
    });
    expect(await h.muster('triggers', 'create', 'disk-full', '--secret', ...withKey(url))).toBe(0);
    expect(h.api.seen[0]!.body).toEqual({ name: 'disk-full', secret: true });
    expect(h.stdout).toBe('mts_secret\n');
    expect(h.stderr).toMatch(/shown only once/);
    h.stdout = '';
    expect(await h.muster('triggers', 'create', 'disk-full', '--secret', '--json', ...withKey(url))).toBe(0);
    expect(JSON.parse(h.stdout)).toEqual({ trigger, secret: 'mts_secret' });
    h.stdout = '';
    expect(await h.muster('triggers', 'list', ...withKey(url))).toBe(0);
    expect(h.stdout).toBe('ID  NAME       SECRET\nt1  disk-full  yes\n');
    h.stdout = '';
    expect(await h.muster('triggers', 'rotate-secret', 'disk-full', ...withKey(url))).toBe(0);
    expect(h.stdout).toBe('mts_new\n');
    h.stdout = '';
    expect(await h.muster('triggers', 'rm', 'disk-full', ...withKey(url))).toBe(0);
    expect(h.stdout).toBe('deleted trigger disk-full\n');
  });

  it('edits, runs (detached) and removes a command by name', async () => {
    const saved = { ...script, launch_type: 'trigger', trigger: 'go', schedule: null, timezone: null, run_at: null, run_on_enroll: false, next_fire_at: null };
    const job = {
      id: 'j9',
      status: 'running',
      done: false,
      total: 1,
      counts: { pending: 1 },
      source: 'api',
      created_at: '2026-11-23T12:00:00Z',
      finished_at: null,
    };
    const url = await h.serve({
      'PATCH /v1/commands/cleanup': (req) => ({ json: { ...saved, ...(req.body as object) } }),
      'POST /v1/commands/cleanup/run': () => ({ status: 201, json: { job, runs: [] } }),
      'DELETE /v1/commands/cleanup': () => ({ status: 204 }),
    });
    expect(await h.muster('commands', 'edit', 'cleanup', ...withKey(url), '--trigger', 'go-now', '--no-run-on-enroll')).toBe(0);
    expect(h.api.seen[0]!.body).toEqual({ trigger: 'go-now', run_on_enroll: false });
    expect(h.stdout).toBe('updated command cleanup: trigger go-now\n');
    h.stdout = '';
    expect(await h.muster('commands', 'run', 'cleanup', ...withKey(url), '--system', 's1', '--detach')).toBe(0);
    expect(h.api.seen[1]!.body).toEqual({ system_ids: ['s1'] });
    expect(h.stdout).toBe('j9\n');
    h.stdout = '';
    expect(await h.muster('commands', 'run', 'cleanup', ...withKey(url), '--detach', '--json')).toBe(0);
    expect(JSON.parse(h.stdout)).toEqual({ job, runs: [] });
    expect(await h.muster('commands', 'rm', 'cleanup', ...withKey(url))).toBe(0);
    expect(h.api.seen[3]).toMatchObject({ method: 'DELETE', path: '/v1/commands/cleanup' });
  });

  it("lists a command's results as a table, or as JSON with their output", async () => {
    const result = {
      run_id: 'r1',
      job_id: 'j1',
      command_id: script.id,
      command_name: 'cleanup',
      system_id: 's1',
      hostname: 'web-1',
      state: 'failed',
      exit_code: 3,
      reason: 'exited with code 3',
      stdout: 'partial',
      stderr: 'oops\n',
      created_at: '2026-11-23T12:00:00Z',
      finished_at: '2026-11-23T12:00:01Z',
    };
    const url = await h.serve({ 'GET /v1/commands/cleanup/results': () => ({ json: { total: 1, items: [result] } }) });
    expect(await h.muster('commands', 'results', 'cleanup', '--limit', '5', ...withKey(url))).toBe(0);
    expect(h.api.seen[0]!.path).toBe('/v1/commands/cleanup/results?limit=5');
    expect(
      h.stdout
        .split('\n')
        .slice(0, 2)
        .map((l) => l.split(/\s+/).slice(0, 5)),
    ).toEqual([
      ['RUN', 'JOB', 'HOSTNAME', 'STATE', 'EXIT'],
      ['r1', 'j1', 'web-1', 'failed', '3'],
    ]);
    h.stdout = '';
    expect(await h.muster('commands', 'results', 'cleanup', '--limit', '5', '--json', ...withKey(url))).toBe(0);
    expect(JSON.parse(h.stdout)).toEqual([result]);
  });

  it('adds a command with its launch settings and lists them', async () => {
    const file = join(dir, 'backup.sh');
    writeFileSync(file, 'backup');
    const saved = {
      ...script,
      name: 'backup',
      launch_type: 'repeated',
      schedule: '0 3 * * *',
      timezone: 'Europe/Berlin',
      trigger: null,
      run_at: null,
      run_on_enroll: true,
      next_fire_at: '2026-11-24T02:00:00.000Z',
    };
    const url = await h.serve({ 'POST /v1/commands': () => ({ status: 201, json: saved }), 'GET /v1/commands': () => ({ json: { items: [saved] } }) });
    expect(
      await h.muster(
        'commands',
        'add',
        ...withKey(url),
        '--name',
        'backup',
        '--file',
        file,
        '--launch-type',
        'repeated',
        '--schedule',
        '0 3 * * *',
        '--timezone',
        'Europe/Berlin',
        '--run-on-enroll',
        '--select',
        '*',
      ),
    ).toBe(0);
    expect(h.api.seen[0]!.body).toEqual({
      name: 'backup',
      content: 'backup',
      launch_type: 'repeated',
      schedule: '0 3 * * *',
      timezone: 'Europe/Berlin',
      run_on_enroll: true,
      default_targets: { system_ids: [], group_ids: [], selector: '*' },
    });
    expect(h.stdout).toBe(`saved command backup (${script.id}): cron 0 3 * * * Europe/Berlin\n`);
    h.stdout = '';
    expect(await h.muster('commands', 'list', ...withKey(url))).toBe(0);
    expect(h.stdout.split('\n')[1]).toBe(`${script.id}  backup  cron 0 3 * * * Europe/Berlin  yes        2026-11-24T02:00:00.000Z`);
  });
});
