import { existsSync, readFileSync, statSync } from 'node:fs';
import { CommanderError } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { apiError, type FakeRoute } from './testing/fake-api.js';
import { useCliHarness } from './testing/harness.js';

const h = useCliHarness();

const job = {
  id: 'j1',
  status: 'running',
  done: false,
  total: 2,
  counts: { pending: 2 },
  source: 'cli',
  created_at: '2026-11-23T12:00:00Z',
  finished_at: null,
};
const runs = [
  {
    id: 'r1',
    job_id: 'j1',
    system_id: 's1',
    hostname: 'web-1',
    state: 'pending',
    exit_code: null,
    signal: null,
    reason: null,
    stdout_truncated: false,
    stderr_truncated: false,
    finished_at: null,
  },
  {
    id: 'r2',
    job_id: 'j1',
    system_id: 's2',
    hostname: 'db-1',
    state: 'pending',
    exit_code: null,
    signal: null,
    reason: null,
    stdout_truncated: false,
    stderr_truncated: false,
    finished_at: null,
  },
];
const finalJob = { ...job, status: 'failed', done: true, counts: { succeeded: 1, failed: 1 } };
const finalRuns = [
  { ...runs[0], state: 'succeeded', exit_code: 0, stdout: 'a b\n', stderr: '' },
  { ...runs[1], state: 'failed', exit_code: 3, reason: 'exited with code 3', stdout: 'partial', stderr: 'oops\n' },
];
const launch: FakeRoute = () => ({ status: 201, json: { job, runs } });
const withKey = (url: string) => ['--server', url, '--api-key', 'mk_test'];

describe('muster run', () => {
  it('streams prefixed lines over the event stream, sums up, and exits 1 when a run failed', async () => {
    const events = [
      { id: '1', event: 'output', data: { run_id: 'r1', hostname: 'web-1', stream: 'stdout', data: 'a ' } },
      { id: '2', event: 'output', data: { run_id: 'r2', hostname: 'db-1', stream: 'stderr', data: 'oops\n' } },
      { id: '3', event: 'output', data: { run_id: 'r1', hostname: 'web-1', stream: 'stdout', data: 'b\n' } },
      { id: '4', event: 'run', data: { run_id: 'r1', hostname: 'web-1', state: 'succeeded', exit_code: 0, signal: null, reason: null } },
      { id: '5', event: 'run', data: { run_id: 'r2', hostname: 'db-1', state: 'failed', exit_code: 3, signal: null, reason: 'exited with code 3' } },
      { event: 'end', data: { job_id: 'j1' } },
    ];
    const url = await h.serve({
      'POST /v1/jobs': launch,
      'GET /v1/jobs/j1/events': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(events.map((e) => `${e.id ? `id: ${e.id}\n` : ''}event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`).join(''));
        return undefined;
      },
      'GET /v1/jobs/j1': () => ({ json: finalJob }),
    });
    expect(await h.muster('run', ...withKey(url), '--all', '--env', 'A=1', '--timeout', '5', '--', 'echo', 'a b')).toBe(1);
    expect(h.api.seen[0]!.body).toEqual({ content: "echo 'a b'", targets: { all: true }, env: { A: '1' }, timeout_s: 5 });
    expect(h.stdout).toBe('web-1    | a b\nweb-1    : exit code 0\ndb-1     : exit code 3\n1 succeeded, 1 failed (job j1)\n');
    expect(h.stderr).toBe('db-1     | oops\n');
  });

  it('reads what a stream ended without (late events) from the API, without repeating what it showed', async () => {
    const events = [
      { event: 'output', data: { run_id: 'r2', hostname: 'db-1', stream: 'stdout', data: 'par' } },
      { event: 'run', data: { run_id: 'r1', hostname: 'web-1', state: 'succeeded', exit_code: 0, signal: null, reason: null } },
      { event: 'end', data: { job_id: 'j1' } },
    ];
    const url = await h.serve({
      'POST /v1/jobs': launch,
      'GET /v1/jobs/j1/events': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(events.map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`).join(''));
        return undefined;
      },
      'GET /v1/jobs/j1': () => ({ json: finalJob }),
      'GET /v1/jobs/j1/runs': () => ({
        json: {
          items: [
            { ...runs[0], state: 'succeeded' },
            { ...runs[1], state: 'failed' },
          ],
        },
      }),
      'GET /v1/runs/r2': () => ({ json: finalRuns[1] }),
    });
    expect(await h.muster('run', ...withKey(url), '--all', '--', 'true')).toBe(1);
    expect(h.stdout).toBe('web-1    : exit code 0\ndb-1     | partial\ndb-1     : exit code 3\n1 succeeded, 1 failed (job j1)\n');
    expect(h.stderr).toBe('db-1     | oops\n');
    expect(h.api.seen.some((s) => s.path === '/v1/runs/r1')).toBe(false);
  });

  it('waits by polling and prints one block per system when the server has no event stream', async () => {
    let polls = 0;
    const url = await h.serve({
      'POST /v1/jobs': launch,
      'GET /v1/jobs/j1': () => ({ json: ++polls === 1 ? job : finalJob }),
      'GET /v1/jobs/j1/runs': () => ({ json: { items: runs } }),
      'GET /v1/runs/r1': () => ({ json: finalRuns[0] }),
      'GET /v1/runs/r2': () => ({ json: finalRuns[1] }),
    });
    expect(await h.muster('run', ...withKey(url), '--system', 's1,s2', '--', 'echo $X')).toBe(1);
    expect(h.api.seen[0]!.body).toEqual({ content: 'echo $X', targets: { system_ids: ['s1', 's2'] } });
    expect(polls).toBe(2);
    expect(h.stdout).toBe('── web-1 (s1) ──\na b\nexit code 0\n── db-1 (s2) ──\npartial\nexit code 3\n1 succeeded, 1 failed (job j1)\n');
    expect(h.stderr).toBe('oops\n');
  });

  it('prints the final runs with their output as JSON, and exits 0 when all succeeded', async () => {
    const url = await h.serve({
      'POST /v1/jobs': launch,
      'GET /v1/jobs/j1': () => ({ json: { ...finalJob, status: 'succeeded', counts: { succeeded: 2 } } }),
      'GET /v1/jobs/j1/runs': () => ({ json: { items: runs } }),
      'GET /v1/runs/r1': () => ({ json: finalRuns[0] }),
      'GET /v1/runs/r2': () => ({ json: { ...finalRuns[1], state: 'succeeded', exit_code: 0 } }),
    });
    expect(await h.muster('run', ...withKey(url), '--all', '--json', '--', 'true')).toBe(0);
    expect(JSON.parse(h.stdout).map((r: { id: string; stdout: string }) => [r.id, r.stdout])).toEqual([
      ['r1', 'a b\n'],
      ['r2', 'partial'],
    ]);
  });

  it('prints only the job id with --detach', async () => {
    const url = await h.serve({ 'POST /v1/jobs': launch });
    expect(await h.muster('run', ...withKey(url), '--all', '--detach', '--', 'sleep 30')).toBe(0);
    expect(h.stdout).toBe('j1\n');
  });

  it('prints the job and its runs as launched with --detach --json, and does not wait', async () => {
    const url = await h.serve({ 'POST /v1/jobs': launch });
    expect(await h.muster('run', ...withKey(url), '--all', '--detach', '--json', '--', 'sleep 30')).toBe(0);
    expect(JSON.parse(h.stdout)).toEqual({ job, runs });
    expect(h.api.seen.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/jobs']);
  });

  it('makes a bad --env, no target or a bad number a usage error (exit 2) before any request', async () => {
    const url = await h.serve({ 'POST /v1/jobs': launch });
    expect(await h.muster('run', ...withKey(url), '--all', '--env', 'NOPE', '--', 'true')).toBe(2);
    expect(h.stderr).toBe('error: --env "NOPE": expected NAME=VALUE with NAME like MY_VAR\n');
    process.exitCode = undefined;
    expect(await h.muster('run', ...withKey(url), '--', 'true')).toBe(2);
    expect(h.stderr).toContain('choose the systems');
    await expect(h.muster('run', ...withKey(url), '--all', '--timeout', 'soon', '--', 'true')).rejects.toMatchObject({ code: 'commander.invalidArgument' });
    await expect(h.muster('run', ...withKey(url), '--all', '--shell', 'fish', '--', 'true')).rejects.toBeInstanceOf(CommanderError);
    expect(h.api.seen).toEqual([]);
  });

  it("reports the server's refusal as error: <message>, exit 1", async () => {
    const url = await h.serve({ 'POST /v1/jobs': () => apiError(400, 'INVALID_ARGUMENT', 'selector: unexpected end at position 5') });
    expect(await h.muster('run', ...withKey(url), '--select', 'tag:(', '--', 'true')).toBe(1);
    expect(h.stderr).toBe('error: selector: unexpected end at position 5\n');
  });
});

describe('muster systems', () => {
  const systems = [
    {
      id: 's1',
      hostname: 'web-1',
      display_name: 'web-1',
      os: 'Linux',
      os_release: 'Debian 12',
      arch: 'x64',
      tags: ['web', 'prod'],
      connected: true,
      last_contact: new Date().toISOString(),
    },
  ];

  it('prints a table, or the raw items with --json', async () => {
    const url = await h.serve({ 'GET /v1/systems': () => ({ json: { items: systems, next_cursor: null } }) });
    expect(await h.muster('systems', ...withKey(url))).toBe(0);
    expect(h.stdout.split('\n')[0]).toBe('ID  HOSTNAME  OS         ARCH  CONNECTED  LAST CONTACT  TAGS');
    expect(h.stdout.split('\n')[1]).toMatch(/^s1  web-1     Debian 12  x64   yes        \d+s ago +web,prod$/);
    h.stdout = '';
    expect(await h.muster('systems', ...withKey(url), '--json')).toBe(0);
    expect(JSON.parse(h.stdout)).toEqual(systems);
  });

  it('uses MUSTER_SERVER and MUSTER_API_KEY, and says what to do without a key (exit 2)', async () => {
    const url = await h.serve({
      'GET /v1/systems': (req) => (req.headers.authorization === 'Bearer mk_env' ? { json: { items: [] } } : apiError(401, 'UNAUTHENTICATED', 'no')),
    });
    vi.stubEnv('MUSTER_SERVER', url);
    expect(await h.muster('systems')).toBe(2);
    expect(h.stderr).toBe('error: no API key: run `muster login` or set MUSTER_API_KEY\n');
    process.exitCode = undefined;
    vi.stubEnv('MUSTER_API_KEY', 'mk_env');
    expect(await h.muster('systems', '--json')).toBe(0);
    expect(h.stdout).toBe('[]\n');
  });

  it('names a bad server URL as a config error (exit 2)', async () => {
    expect(await h.muster('systems', '--server', 'ftp://x', '--api-key', 'k')).toBe(2);
    expect(h.stderr).toMatch(/^error: invalid config server/);
  });
});

describe('muster keys and enrollment-keys', () => {
  it('prints a new secret once on stdout with the warning on stderr', async () => {
    const url = await h.serve({ 'POST /v1/api-keys': (req) => ({ status: 201, json: { key: { id: 'k9', ...(req.body as object) }, secret: 'mk_secret' } }) });
    expect(await h.muster('keys', 'create', ...withKey(url), '--name', 'ci', '--role', 'operator')).toBe(0);
    expect(h.api.seen[0]!.body).toEqual({ name: 'ci', role: 'operator' });
    expect(h.stdout).toBe('mk_secret\n');
    expect(h.stderr).toMatch(/created API key k9\. The secret is shown only once/);
    await expect(h.muster('keys', 'create', ...withKey(url), '--name', 'ci', '--role', 'root')).rejects.toBeInstanceOf(CommanderError);
  });

  it('creates enrollment keys with tags, lists as JSON, and revokes', async () => {
    const key = { id: 'e1', name: 'lab', tags: ['lab', 'x'], prefix: 'ek_ab', created_at: '2026-11-23T12:00:00Z', revoked_at: null };
    const url = await h.serve({
      'POST /v1/enrollment-keys': () => ({ status: 201, json: { key, secret: 'ek_secret' } }),
      'GET /v1/enrollment-keys': () => ({ json: { items: [key] } }),
      'DELETE /v1/enrollment-keys/e1': () => ({ status: 204 }),
    });
    expect(await h.muster('enrollment-keys', 'create', ...withKey(url), '--name', 'lab', '--tag', 'lab', '--tag', 'x')).toBe(0);
    expect(h.api.seen[0]!.body).toEqual({ name: 'lab', tags: ['lab', 'x'] });
    h.stdout = '';
    expect(await h.muster('enrollment-keys', 'list', ...withKey(url), '--json')).toBe(0);
    expect(JSON.parse(h.stdout)).toEqual([key]);
    h.stdout = '';
    expect(await h.muster('enrollment-keys', 'revoke', 'e1', ...withKey(url))).toBe(0);
    expect(h.stdout).toBe('revoked enrollment key e1\n');
  });

  it('creates an enrollment key with groups, an expiry and a use limit, and shows them in the table', async () => {
    const key = {
      id: 'e2',
      name: 'asg',
      tags: [],
      group_ids: ['g1'],
      expires_at: '2000-01-01T00:00:00.000Z',
      max_uses: 5,
      uses: 2,
      prefix: 'ek_cd',
      created_at: '2026-11-23T12:00:00Z',
      revoked_at: null,
    };
    const url = await h.serve({
      'POST /v1/enrollment-keys': () => ({ status: 201, json: { key, secret: 'ek_secret' } }),
      'GET /v1/enrollment-keys': () => ({ json: { items: [key] } }),
    });
    const before = Date.now();
    expect(await h.muster('enrollment-keys', 'create', ...withKey(url), '--name', 'asg', '--group', 'web', '--expires', '2h', '--max-uses', '5')).toBe(0);
    const body = h.api.seen[0]!.body as { expires_at: string };
    expect(body).toEqual({ name: 'asg', groups: ['web'], max_uses: 5, expires_at: expect.any(String) });
    expect(Date.parse(body.expires_at) - before).toBeGreaterThanOrEqual(2 * 3_600_000 - 1000);
    expect(Date.parse(body.expires_at) - before).toBeLessThan(2 * 3_600_000 + 60_000);
    h.stdout = '';
    expect(await h.muster('enrollment-keys', 'list', ...withKey(url))).toBe(0);
    expect(h.stdout).toMatch(/e2\s+asg\s+g1\s+2\/5\s+2000-01-01T00:00:00.000Z\s+ek_cd…\s+.*expired/);
    await expect(h.muster('enrollment-keys', 'create', ...withKey(url), '--name', 'x', '--max-uses', '0')).rejects.toBeInstanceOf(CommanderError);
    await expect(h.muster('enrollment-keys', 'create', ...withKey(url), '--name', 'x', '--expires', 'tomorrow')).rejects.toBeInstanceOf(CommanderError);
  });
});

describe('muster login', () => {
  it('checks the key with whoami, then saves it 0600; a refused key saves nothing', async () => {
    const url = await h.serve({
      'GET /v1/whoami': (req) =>
        req.headers.authorization === 'Bearer mk_good'
          ? { json: { organization_id: 'o1', organization_name: 'Acme', key_id: 'k1', role: 'admin' } }
          : apiError(401, 'UNAUTHENTICATED', 'the API key is not valid'),
    });
    const path = h.configPath;
    expect(await h.muster('login', '--server', url, '--api-key', 'mk_bad')).toBe(1);
    expect(existsSync(path)).toBe(false);
    expect(h.stderr).toMatch(/not valid/);
    process.exitCode = undefined;
    expect(await h.muster('login', '--server', url, '--api-key', 'mk_good')).toBe(0);
    expect(h.stdout).toBe(`logged in to ${url} as admin of Acme (key k1); saved to ${path}\n`);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ server: url, api_key: 'mk_good' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
