import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { BIN, muster, startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';
import { exerciseShell, PtyProcess, TerminalClient } from './support/terminal.js';

/** A command's stdout; an exit status of 1 (pgrep: nothing matched) is an empty answer. */
const stdoutOf = (file: string, args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile(file, args, (err, stdout) => (err && (err as { code?: unknown }).code !== 1 ? reject(err) : resolve(stdout))),
  );

describe.each(DATABASES)('jump sessions end to end on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let web: AgentProcess;
  let db2: AgentProcess;
  const keys = { viewer: '', operator: '', operator2: '', other: '' };
  const api = (method: string, path: string, body?: unknown, key = server.adminKey) => call(server.url, key, method, path, body);
  const terminal = (id: string, key = server.adminKey) => new TerminalClient(server.url, key, id);

  beforeAll(async () => {
    if (skip) return;
    db = await createTestDatabase(name);
    server = await startServerProcess(db);
    web = await startAgentProcess(server, ['web', 'db']);
    db2 = await startAgentProcess(server, ['db']);
    for (const role of ['viewer', 'operator'] as const) keys[role] = (await api('POST', '/v1/api-keys', { name: role, role })).body.secret;
    keys.operator2 = (await api('POST', '/v1/api-keys', { name: 'operator2', role: 'operator' })).body.secret;
    keys.other = (await api('POST', '/v1/organizations', { name: 'Other', slug: `other-${name}` })).body.api_key;
    await waitFor(async () => {
      const { body } = await api('GET', '/v1/systems');
      return [web, db2].every((a) => body.items.some((s: { id: string; connected: boolean }) => s.id === a.systemId && s.connected));
    }, 'two agents to connect');
  });

  afterAll(async () => {
    for (const a of [web, db2]) await a?.proc.stop();
    await server?.proc.stop();
    await db?.drop();
  });

  it.skipIf(skip)('opens a shell by criteria: types, reads 42, resizes, exits with its status, and records it', async () => {
    const opened = await api('POST', '/v1/sessions', { criteria: { tag: 'web' }, cols: 80, rows: 24 });
    expect(opened.status, opened.text).toBe(201);
    expect(opened.body).toMatchObject({ system_id: web.systemId, state: 'active', pty: true, notice: null, criteria: { tag: 'web' } });
    const t = terminal(opened.body.id);
    const { exit, closeCode } = await exerciseShell(t);
    expect(exit).toMatchObject({ reason: 'exited', exit_code: 7, signal: null });
    expect(closeCode).toBe(1000);
    const shown = await api('GET', `/v1/sessions/${opened.body.id}`);
    expect(shown.body).toMatchObject({ state: 'ended', end_reason: 'exited', exit_code: 7, ended_at: expect.any(String) });
    const rec = await api('GET', `/v1/sessions/${opened.body.id}/recording`);
    expect(rec.status).toBe(200);
    expect(rec.headers.get('content-type')).toContain('application/x-asciicast');
    const [header, ...events] = rec.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(header).toMatchObject({ version: 2, width: 80, height: 24 });
    const replayed = events
      .filter((e) => e[1] === 'o')
      .map((e) => e[2])
      .join('');
    expect(replayed).toBe(t.output);
    expect(replayed).toMatch(/^42\r?$/m);
    expect(events).toContainEqual([expect.any(Number), 'r', '100x30']);
    // Input is not recorded unless the organization says so.
    expect(events.some((e) => e[1] === 'i')).toBe(false);
    const times = events.map((e) => e[0] as number);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it.skipIf(skip)('ambiguous criteria answer 409 with the candidates; opening with the chosen one works', async () => {
    const amb = await api('POST', '/v1/sessions', { criteria: { tag: 'db' } });
    expect(amb.status).toBe(409);
    expect(amb.body.error.code).toBe('CONFLICT');
    expect(amb.body.error.candidates.map((c: { id: string }) => c.id).sort()).toEqual([web.systemId, db2.systemId].sort());
    expect(amb.body.error.candidates[0]).toMatchObject({
      hostname: expect.any(String),
      tags: expect.arrayContaining(['db']),
      connected: true,
      private_ips: expect.any(Array),
    });
    const chosen = await api('POST', '/v1/sessions', { criteria: { tag: 'db' }, system_id: db2.systemId });
    expect(chosen.status, chosen.text).toBe(201);
    expect(chosen.body.system_id).toBe(db2.systemId);
    // The chosen id must be one of the candidates.
    const outside = await api('POST', '/v1/sessions', { criteria: { tag: 'web' }, system_id: db2.systemId });
    expect(outside.status).toBe(400);
    const none = await api('POST', '/v1/sessions', { criteria: { hostname: 'no-such-host-anywhere' } });
    expect(none.status).toBe(404);
    const ended = await api('POST', `/v1/sessions/${chosen.body.id}/end`);
    expect(ended.body).toMatchObject({ state: 'ended', end_reason: 'ended_by_user' });
  });

  it.skipIf(skip)('bad requests are 400s naming the field', async () => {
    const long = await api('POST', '/v1/sessions', { criteria: { hostname: 'x'.repeat(256) } });
    expect(long.status).toBe(400);
    expect(long.body.error.message).toMatch(/criteria\.hostname/);
    const empty = await api('POST', '/v1/sessions', { criteria: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/at least one criterion/);
    const custom = await api('POST', '/v1/sessions', { criteria: { tag: 'web' }, custom: { ticket: '1' } });
    expect(custom.status).toBe(400);
    expect(custom.body.error.message).toMatch(/custom\.ticket: is not a custom field/);
  });

  it.skipIf(skip)('viewers cannot open or attach; another organization sees no session', async () => {
    const refused = await api('POST', '/v1/sessions', { criteria: { tag: 'web' } }, keys.viewer);
    expect(refused.status).toBe(403);
    const opened = await api('POST', '/v1/sessions', { criteria: { tag: 'web' } }, keys.operator);
    expect(opened.status).toBe(201);
    const t = terminal(opened.body.id, keys.viewer);
    await t.closed;
    expect(t.refused).toBe(403);
    expect((await api('GET', `/v1/sessions/${opened.body.id}`, undefined, keys.other)).status).toBe(404);
    expect((await api('POST', `/v1/sessions/${opened.body.id}/end`, undefined, keys.other)).status).toBe(404);
    const foreign = terminal(opened.body.id, keys.other);
    await foreign.closed;
    expect(foreign.events).toContainEqual(expect.objectContaining({ type: 'error', code: 'NOT_FOUND' }));
    expect((await api('POST', '/v1/sessions', { system_id: web.systemId }, keys.other)).status).toBe(404);
    await api('POST', `/v1/sessions/${opened.body.id}/end`, undefined, keys.operator);
  });

  it.skipIf(skip)("an admin ends an operator's session; another operator may not", async () => {
    const opened = await api('POST', '/v1/sessions', { criteria: { tag: 'web' } }, keys.operator);
    const t = terminal(opened.body.id, keys.operator);
    await t.opened;
    const denied = await api('POST', `/v1/sessions/${opened.body.id}/end`, undefined, keys.operator2);
    expect(denied.status).toBe(403);
    const ended = await api('POST', `/v1/sessions/${opened.body.id}/end`);
    expect(ended.body).toMatchObject({ state: 'ended', end_reason: 'ended_by_admin', ended_by: expect.stringContaining('api_key:') });
    expect(await t.exit()).toMatchObject({ reason: 'ended_by_admin', message: expect.stringContaining('ended by an admin') });
    await t.closed;
  });

  it.skipIf(skip)('a session reaches its maximum duration, however busy', async () => {
    const opened = await api('POST', '/v1/sessions', { criteria: { tag: 'web' }, max_duration_s: 1 });
    const t = terminal(opened.body.id);
    await t.opened;
    t.type('while :; do echo busy; sleep 0.1; done\n');
    await t.sees(/^busy\r?$/m);
    expect(await t.exit()).toMatchObject({ reason: 'max_duration', message: 'the session reached its maximum duration of 1 s' });
  });

  it.skipIf(skip)('the shell runs as the chosen system user', async () => {
    const opened = await api('POST', '/v1/sessions', { criteria: { tag: 'web' }, run_as: 'nobody' });
    expect(opened.status, opened.text).toBe(201);
    expect(opened.body.run_as).toBe('nobody');
    const t = terminal(opened.body.id);
    await t.opened;
    t.type('echo "I am $(id -un)"\n');
    await t.sees(/^I am nobody\r?$/m);
    t.type('exit\n');
    await t.exit();
    const missing = await api('POST', '/v1/sessions', { criteria: { tag: 'web' }, run_as: 'no_such_user_here' });
    expect(missing.status).toBe(503);
    expect(missing.body.error.message).toMatch(/there is no user no_such_user_here on this machine/);
    expect((await api('GET', '/v1/sessions?state=ended&limit=1')).body.items[0]).toMatchObject({ end_reason: 'failed_to_start' });
  });

  it.skipIf(skip)('an idle session ends itself', async () => {
    const opened = await api('POST', '/v1/sessions', { criteria: { tag: 'web' }, idle_timeout_s: 1 });
    const t = terminal(opened.body.id);
    await t.opened;
    expect(await t.exit()).toMatchObject({ reason: 'idle_timeout', message: 'no input for 1 s' });
    expect((await api('GET', `/v1/sessions/${opened.body.id}`)).body).toMatchObject({ state: 'ended', end_reason: 'idle_timeout' });
  });

  it.skipIf(skip)(
    'a dropped viewer detaches: what the shell printed meanwhile waits for the next viewer, and a detached session idles out leaving no process behind',
    async () => {
      const opened = await api('POST', '/v1/sessions', { criteria: { tag: 'web' }, idle_timeout_s: 3 });
      const marker = `detached-${opened.body.id}`;
      const first = terminal(opened.body.id);
      await first.opened;
      first.type('echo ready-$((1+1))\n');
      await first.sees(/^ready-2\r?$/m);
      first.type(`sleep 1; echo after-$((2+3)); sh -c 'sleep 300; : ${marker}'\n`);
      // The shell has the line (the terminal echoed it); the viewer drops before the answer.
      await first.sees(/sleep 1; echo after/);
      first.close();
      await first.closed;
      expect((await api('GET', `/v1/sessions/${opened.body.id}`)).body.state).toBe('active');
      const second = terminal(opened.body.id);
      await second.opened;
      await second.sees(/^after-5\r?$/m);
      expect(first.output).not.toMatch(/^after-5/m);
      const running = async () => (await stdoutOf('pgrep', ['-f', marker])).trim() !== '';
      await waitFor(running, 'the shell to start the marked process');
      second.close();
      await waitFor(async () => (await api('GET', `/v1/sessions/${opened.body.id}`)).body.state === 'ended', 'the detached session to idle out');
      expect((await api('GET', `/v1/sessions/${opened.body.id}`)).body).toMatchObject({ end_reason: 'idle_timeout' });
      await waitFor(async () => !(await running()), 'the marked process to be gone');
    },
  );

  it.skipIf(skip)('an organization that records input gets the keystrokes in the recording, and its custom fields on the session', async () => {
    expect((await api('PUT', '/v1/session-settings', { record_input: true, custom_fields: ['ticket'] }, keys.operator)).status).toBe(403);
    const put = await api('PUT', '/v1/session-settings', { record_input: true, custom_fields: ['ticket'] });
    expect(put.body).toEqual({ record_input: true, custom_fields: ['ticket'] });
    try {
      const tooBig = await api('POST', '/v1/sessions', { criteria: { tag: 'web' }, custom: { ticket: 'x'.repeat(1025) } });
      expect(tooBig.body.error.message).toMatch(/custom\.ticket: must be at most 1024 characters/);
      const opened = await api('POST', '/v1/sessions', { criteria: { tag: 'web' }, custom: { ticket: 'INC-1' } });
      expect(opened.body).toMatchObject({ record_input: true, custom: { ticket: 'INC-1' } });
      const t = terminal(opened.body.id);
      await t.opened;
      t.type('echo typed-$((1+1))\n');
      await t.sees(/^typed-2\r?$/m);
      t.type('exit\n');
      expect(await t.exit()).toMatchObject({ exit_code: 0 });
      const events = (await api('GET', `/v1/sessions/${opened.body.id}/recording`)).text
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => JSON.parse(l));
      expect(
        events
          .filter((e) => e[1] === 'i')
          .map((e) => e[2])
          .join(''),
      ).toBe('echo typed-$((1+1))\nexit\n');
    } finally {
      await api('PUT', '/v1/session-settings', { record_input: false, custom_fields: [] });
    }
  });

  it.skipIf(skip)('muster jump shows a chooser when several match, then is the shell, and exits with its status', async () => {
    const cli = await PtyProcess.spawn(process.execPath, [BIN, 'jump', '--tag', 'db', '--server', server.url, '--api-key', keys.operator], {
      cols: 90,
      rows: 20,
    });
    await cli.sees(/2 systems match:/);
    await cli.sees(/#\s+NAME\s+HOSTNAME\s+TAGS\s+COMMENTS\s+PRIVATE IP\s+PUBLIC IP\s+ONLINE/);
    await cli.sees(/open which one\? \[1-2, empty to cancel\]/);
    cli.type('9\r');
    await cli.sees(/not a choice: 9/);
    cli.type('1\r');
    await cli.sees(/muster: session (\w+) on system/);
    cli.type('stty size; echo $((6*7))\r');
    await cli.sees(/^20 90\r?$/m);
    await cli.sees(/^42\r?$/m);
    cli.resize(120, 33);
    // The terminal's SIGWINCH and the next keystrokes race inside the CLI, as they do for a user
    // who types at once: ask the shell its size until the resize has reached it.
    let size = '';
    for (let asked = 0; size !== '33 120' && asked < 20; asked++) {
      const from = cli.output.length;
      cli.type('stty size\r');
      size = (await cli.sees(/^(\d+ \d+)\r?$/m, 15_000, from))[1]!;
    }
    expect(size).toBe('33 120');
    cli.type('exit 3\r');
    expect(await cli.exited).toBe(3);
    expect(cli.output).toMatch(/ended: the shell exited with status 3/);
    const id = /muster: session (\w+) on system/.exec(cli.output)![1]!;
    const listed = await muster(['sessions', 'list', '--json', '--server', server.url, '--api-key', keys.viewer]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toContainEqual(expect.objectContaining({ id, state: 'ended', end_reason: 'exited', exit_code: 3 }));
    const shown = await muster(['sessions', 'show', id, '--server', server.url, '--api-key', keys.viewer]);
    expect(shown.stdout).toMatch(/end:\s+exited: the shell exited with status 3/);
    const played = await muster(['sessions', 'play', id, '--speed', '100', '--server', server.url, '--api-key', keys.viewer]);
    expect(played.code).toBe(0);
    expect(played.stdout).toMatch(/^42\r?$/m);
  });

  it.skipIf(skip)('muster jump with criteria nothing matches says so and exits 1', async () => {
    const r = await muster(['jump', '--hostname', 'no-such-host', '--server', server.url, '--api-key', keys.operator]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: no system matches the criteria/);
  });

  it.skipIf(skip)('an agent that disconnects ends its sessions, saying so', async () => {
    const opened = await api('POST', '/v1/sessions', { criteria: { tag: 'db' }, system_id: db2.systemId });
    const t = terminal(opened.body.id);
    await t.opened;
    t.type('echo $$\n');
    const shellPid = Number((await t.sees(/^(\d+)\r?$/m))[1]);
    // A job that ignores the hang-up its terminal gets when the agent dies.
    t.type('nohup sleep 600 >/dev/null 2>&1 & echo JOB=$!\n');
    const job = Number((await t.sees(/JOB=(\d+)/))[1]);
    // $! is known at the fork, before nohup has set the hang-up aside: wait until it has exec'd sleep.
    await waitFor(async () => {
      try {
        return readFileSync(`/proc/${job}/comm`, 'utf8').trim() === 'sleep';
      } catch {
        return false;
      }
    }, 'the nohup job to be running sleep');
    await db2.proc.stop('SIGKILL');
    expect(await t.exit()).toMatchObject({ reason: 'agent_disconnected', message: `the agent of system ${db2.systemId} disconnected` });
    expect((await api('GET', `/v1/sessions/${opened.body.id}`)).body).toMatchObject({ state: 'ended', end_reason: 'agent_disconnected' });
    // The shell went with its agent's terminal.
    await waitFor(async () => {
      try {
        process.kill(shellPid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the shell to exit');
    // The next agent process hangs up on what the dead one's sessions left.
    db2.restart();
    await db2.proc.waitForOutput(/hung up on session shells left by the previous agent process/);
    const gone = () => {
      try {
        process.kill(job, 0);
        return false;
      } catch {
        return true;
      }
    };
    await waitFor(async () => gone(), 'the nohup job to be killed');
  });
});
