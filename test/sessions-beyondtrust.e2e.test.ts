import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { BIN, muster, startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';
import { PtyProcess } from './support/terminal.js';

const GENERATE = '/api/client_script?type=rep&operation=generate&action=start_jump_item_session';

describe.each(DATABASES)('BeyondTrust console scripts end to end on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let maint: AgentProcess;
  let other: AgentProcess;
  let privatePrefix = '';
  const keys = { viewer: '', operator: '', operator2: '' };
  const dir = mkdtempSync(join(tmpdir(), 'muster-brcs-'));
  const api = (method: string, path: string, body?: unknown, key = server.adminKey) => call(server.url, key, method, path, body);
  const file = (n: string, text: string) => {
    const path = join(dir, n);
    writeFileSync(path, text);
    return path;
  };
  /** Runs `muster console-script` on a terminal, as the desktop console would be. */
  const consoleScript = (path: string, key = keys.operator) =>
    PtyProcess.spawn(process.execPath, [BIN, 'console-script', path, '--server', server.url, '--api-key', key], { cols: 100, rows: 30 });
  const generate = async (query: string, key = keys.operator) => {
    const r = await call(server.url, key, 'GET', `${GENERATE}&${query}`);
    expect(r.status, r.text).toBe(200);
    return r;
  };

  beforeAll(async () => {
    if (skip) return;
    db = await createTestDatabase(name);
    server = await startServerProcess(db);
    maint = await startAgentProcess(server, ['server', 'web']);
    other = await startAgentProcess(server, ['db']);
    for (const role of ['viewer', 'operator', 'operator2'] as const)
      keys[role] = (await api('POST', '/v1/api-keys', { name: role, role: role === 'viewer' ? 'viewer' : 'operator' })).body.secret;
    await waitFor(async () => {
      const { body } = await api('GET', '/v1/systems');
      return [maint, other].every((a) => body.items.some((s: { id: string; connected: boolean }) => s.id === a.systemId && s.connected));
    }, 'two agents to connect');
    expect((await api('PATCH', `/v1/systems/${maint.systemId}`, { description: 'Scheduled MAINTENANCE window' })).status).toBe(200);
    const ips = (await api('GET', `/v1/systems/${maint.systemId}`)).body.ip_addresses as string[];
    privatePrefix = (ips.find((ip) => ip.includes('.')) ?? ips[0] ?? '').split('.').slice(0, 3).join('.');
  });

  afterAll(async () => {
    for (const a of [maint, other]) await a?.proc.stop();
    await server?.proc.stop();
    await db?.drop();
  });

  it.skipIf(skip)('comments and tag → a console script → muster console-script → the shell, once', async () => {
    const r = await generate('client.comments=maintenance&client.tag=server');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="muster.brcs-127.0.0.1"');
    const [header, command, ...rest] = r.text.split('\n');
    expect(header).toBe('BRCS1.0');
    expect(rest).toEqual(['']);
    expect(command).toMatch(/^action=start_jump_item_session&client\.comments=maintenance&client\.tag=server&jump\.method=shell&muster\.ticket=mst_[\w%-]+$/);
    const path = file('maint.brcs', r.text);
    const cli = await consoleScript(path);
    await cli.sees(new RegExp(`muster: session \\w+ on system ${maint.systemId}`));
    cli.type('echo $((6*7))\r');
    await cli.sees(/^42\r?$/m);
    cli.type('exit\r');
    expect(await cli.exited).toBe(0);
    // The ticket was used: the same file opens nothing again.
    const again = await muster(['console-script', path, '--server', server.url, '--api-key', keys.operator]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/ticket: already used/);
  });

  it.skipIf(skip)('a hostname both systems share → the chooser → the chosen system', async () => {
    const r = await generate(`client.hostname=${encodeURIComponent(hostname().toUpperCase())}`);
    const cli = await consoleScript(file('host.brcs', r.text));
    await cli.sees(/2 systems match:/);
    await cli.sees(/open which one\?/);
    const rows = cli.output.split('\n').filter((l) => /^[12]  /.test(l));
    const choice = rows.findIndex((l) => l.includes('db')) + 1;
    cli.type(`${choice}\r`);
    await cli.sees(new RegExp(`muster: session \\w+ on system ${other.systemId}`));
    cli.type('exit 4\r');
    expect(await cli.exited).toBe(4);
  });

  it.skipIf(skip)('private IP with jump.method=pinned and custom fields: the session carries them; the ticket survives the choice', async () => {
    const query = `client.private_ip=${privatePrefix}&jump.method=pinned&session.custom.custom_field1=Custom%20Value&session.custom.custom_field2=123`;
    const unconfigured = await call(server.url, keys.operator, 'GET', `${GENERATE}&${query}`);
    expect(unconfigured.status).toBe(400);
    expect(unconfigured.body.error.message).toMatch(/custom\.custom_field1: is not a custom field/);
    await api('PUT', '/v1/session-settings', { record_input: false, custom_fields: ['custom_field1', 'custom_field2'] });
    // Through the CLI, choosing the maintenance system.
    const script = await generate(query);
    expect(script.text).toMatch(/&session\.custom\.custom_field1=Custom%20Value&session\.custom\.custom_field2=123&jump\.method=shell&muster\.ticket=/);
    const cli = await consoleScript(file('pinned.brcs', script.text));
    await cli.sees(/open which one\?/);
    cli.type(
      `${
        cli.output
          .split('\n')
          .filter((l) => /^[12]  /.test(l))
          .findIndex((l) => l.includes('MAINTENANCE')) + 1
      }\r`,
    );
    const id = (await cli.sees(new RegExp(`muster: session (\\w+) on system ${maint.systemId}`)))[1];
    cli.type('exit\r');
    expect(await cli.exited).toBe(0);
    expect((await api('GET', `/v1/sessions/${id}`)).body).toMatchObject({
      custom: { custom_field1: 'Custom Value', custom_field2: '123' },
      criteria: { private_ip: privatePrefix },
    });
    // Through the API: the ticket survives the 409 and is used by the choice.
    const r = await generate(query);
    const ticket = decodeURIComponent(/muster\.ticket=([^&\n]+)/.exec(r.text)![1]!);
    const amb = await api('POST', '/v1/sessions', { ticket }, keys.operator);
    expect(amb.status).toBe(409);
    expect(amb.body.error.candidates).toHaveLength(2);
    const opened = await api('POST', '/v1/sessions', { ticket, system_id: maint.systemId }, keys.operator);
    expect(opened.status, opened.text).toBe(201);
    expect(opened.body).toMatchObject({
      system_id: maint.systemId,
      criteria: { private_ip: privatePrefix },
      custom: { custom_field1: 'Custom Value', custom_field2: '123' },
    });
    expect((await api('POST', '/v1/sessions', { ticket, system_id: maint.systemId }, keys.operator)).status).toBe(409);
    await api('POST', `/v1/sessions/${opened.body.id}/end`, undefined, keys.operator);
  });

  it.skipIf(skip)('a ticket is bound to the key that generated it', async () => {
    const r = await generate('client.tag=server');
    const ticket = decodeURIComponent(/muster\.ticket=([^&\n]+)/.exec(r.text)![1]!);
    const stolen = await api('POST', '/v1/sessions', { ticket }, keys.operator2);
    expect(stolen.status).toBe(403);
    expect(stolen.body.error.message).toMatch(/generated by another API key/);
    expect((await api('POST', '/v1/sessions', { ticket, criteria: { tag: 'db' } }, keys.operator)).status).toBe(400);
    expect((await api('POST', '/v1/sessions', { ticket: 'mst_forged' }, keys.operator)).status).toBe(400);
  });

  it.skipIf(skip)('every bad request is a 400 naming what is wrong, in the native error shape', async () => {
    await api('PUT', '/v1/session-settings', { record_input: false, custom_fields: Array.from({ length: 11 }, (_, i) => `c${i}`) });
    const bad: Array<[string, RegExp]> = [
      [`${GENERATE}&client.hostname=${'x'.repeat(256)}`, /client\.hostname: must be at most 255 characters/],
      [`${GENERATE}&client.tag=server&session.custom.c0=${'x'.repeat(1025)}`, /custom\.c0: must be at most 1024 characters/],
      [
        `${GENERATE}&client.tag=server&${Array.from({ length: 11 }, (_, i) => `session.custom.c${i}=${'x'.repeat(1000)}`).join('&')}`,
        /11000 characters; at most 10240 in all/,
      ],
      [`${GENERATE}&client.tag=server&session.custom.nope=1`, /custom\.nope: is not a custom field of this organization/],
      [GENERATE, /at least one client\.\* criterion or search_string/],
      [`${GENERATE}&client.tag=server&jump.method=teleport`, /jump\.method: unknown method "teleport"/],
      [`${GENERATE}&client.tag=server&jump.method=rdp`, /jump\.method: rdp is not available/],
      [`${GENERATE}&client.tag=server&client.os=linux`, /client\.os: is not a parameter/],
      ['/api/client_script?type=rep&operation=generate&action=start_shell_jump_session&client.tag=server', /action: must be start_jump_item_session/],
      ['/api/client_script?type=rep&operation=execute&action=start_jump_item_session&client.tag=server', /operation: must be generate for type=rep/],
      ['/api/client_script?type=customer&operation=generate&action=start_jump_item_session&client.tag=server', /type: must be rep/],
      [`${GENERATE}&client.tag=a&client.tag=b`, /client\.tag: must be given once/],
    ];
    for (const [path, message] of bad) {
      const r = await call(server.url, keys.operator, 'GET', path);
      expect(r.status, path).toBe(400);
      expect(r.body.error, path).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message), request_id: expect.any(String) });
    }
    await api('PUT', '/v1/session-settings', { record_input: false, custom_fields: [] });
    expect((await call(server.url, keys.viewer, 'GET', `${GENERATE}&client.tag=server`)).status).toBe(403);
    expect((await call(server.url, undefined, 'GET', `${GENERATE}&client.tag=server`)).status).toBe(401);
    const posted = await call(
      server.url,
      keys.operator,
      'POST',
      '/api/client_script',
      'type=rep&operation=generate&action=start_jump_item_session&search_string=maint',
      { 'content-type': 'application/x-www-form-urlencoded' },
    );
    expect(posted.status).toBe(200);
    expect(posted.text).toMatch(/^BRCS1\.0\naction=start_jump_item_session&search_string=maint&jump\.method=shell&muster\.ticket=/);
  });

  it.skipIf(skip)('web_console execute redirects to the console with the same criteria', async () => {
    const r = await fetch(`${server.url}/api/client_script?type=web_console&operation=execute&action=start_jump_item_session&search_string=ABCDEF02`, {
      headers: { authorization: `Bearer ${keys.operator}` },
      redirect: 'manual',
    });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toMatch(/^\/console\/sessions\/new\?search_string=ABCDEF02&muster\.ticket=mst_/);
  });

  it.skipIf(skip)('a bad console script is refused before anything runs', async () => {
    const line = 'action=start_jump_item_session&client.tag=server';
    const cases: Array<[string, RegExp]> = [
      [`BRCS2.0\n${line}\n`, /the first line must be BRCS1\.0/],
      [`BRCS1.0\n${Array(11).fill(line).join('\n')}\n`, /11 commands; at most 10/],
      [`BRCS1.0\n${line}\naction=start_jump_item_session&client.tag=%ZZ\n`, /command 2: bad percent-encoding/],
      [`BRCS1.0\n${line}\naction=generate_session_key\n`, /command 2: action "generate_session_key" is not supported/],
      ['BRCS1.0\n', /has no commands/],
    ];
    const before = (await api('GET', '/v1/sessions')).body.items.length;
    for (const [i, [text, message]] of cases.entries()) {
      const r = await muster(['console-script', file(`bad${i}.brcs`, text), '--server', server.url, '--api-key', keys.operator]);
      expect(r.code, text).toBe(2);
      expect(r.stderr, text).toMatch(message);
    }
    expect((await api('GET', '/v1/sessions')).body.items.length).toBe(before);
  });
});
