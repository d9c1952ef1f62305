import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../src/config/server.js';
import { startServer } from '../src/server.js';
import { FakeClock } from './support/core.js';
import { createTestDatabase, DATABASES } from './support/databases.js';
import { BIN, muster, waitFor } from './support/processes.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { enrollSystem, signedCall } from './support/system-context.js';

type Event = {
  id: string;
  at: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  request_id: string | null;
  source_ip: string | null;
  details: any;
};

describe.each(DATABASES)('the audit feed on $name', ({ name, skip }) => {
  let s: TestServer;
  const keys = { viewer: '', operator: '', other: '' };
  let adminActor = '';
  let cli: Record<string, string>;
  const api = (method: string, path: string, body?: unknown, key = s.adminKey, headers: Record<string, string> = {}) =>
    call(s.url, key, method, path, body, headers);
  const events = async (query = '', key = s.adminKey) => {
    const r = await api('GET', `/v1/audit${query}`, undefined, key);
    expect(r.status, r.text).toBe(200);
    return r.body.items as Event[];
  };

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    for (const role of ['viewer', 'operator'] as const) keys[role] = (await api('POST', '/v1/api-keys', { name: role, role })).body.secret;
    keys.other = (await api('POST', '/v1/organizations', { name: 'Other', slug: 'other' })).body.api_key;
    adminActor = `api_key:${(await api('GET', '/v1/whoami')).body.key_id}`;
    cli = { MUSTER_SERVER: s.url, MUSTER_API_KEY: s.adminKey, MUSTER_CLI_CONFIG: join(mkdtempSync(join(tmpdir(), 'muster-cli-')), 'cli.json') };
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip)('GET /v1/audit: a change appears newest first with who, what, request id and client address', async () => {
    const group = await api('POST', '/v1/groups', { name: 'audited' }, s.adminKey, { 'x-request-id': 'change-1' });
    expect(group.status).toBe(201);
    const [latest] = await events();
    expect(latest).toMatchObject({
      actor: adminActor,
      action: 'group.create',
      target_type: 'group',
      target_id: group.body.id,
      request_id: 'change-1',
      source_ip: '127.0.0.1',
      details: { name: 'audited' },
    });
    expect(Date.parse(latest!.at)).toBeGreaterThan(Date.now() - 60_000);
    expect((await events(`?target_type=group&target_id=${group.body.id}`)).map((e) => e.action)).toEqual(['group.create']);
    expect((await events('?action=api_key.')).map((e) => e.action)).toEqual(['api_key.create', 'api_key.create', 'api_key.create']);
  });

  it.skipIf(skip)('refuses bad filters with 400 naming the field, in the native error shape', async () => {
    for (const [query, field] of [
      ['?since=yesterday', 'since'],
      ['?limit=0', 'limit'],
      ['?limit=abc', 'limit'],
      ['?cursor=not-a-cursor', 'cursor'],
      ['?colour=red', 'colour'],
    ] as const) {
      for (const path of ['/v1/audit', '/v1/audit/export']) {
        const r = await api('GET', `${path}${query}`);
        expect(r.status, `${path}${query}: ${r.text}`).toBe(400);
        expect(r.body.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
        expect(r.body.error.message).toContain(field);
      }
    }
  });

  it.skipIf(skip)('is for admins only: 401 without a key, 403 for operators and viewers', async () => {
    for (const path of ['/v1/audit', '/v1/audit/export']) {
      expect((await call(s.url, undefined, 'GET', path)).status).toBe(401);
      for (const role of ['viewer', 'operator'] as const) {
        const r = await api('GET', path, undefined, keys[role]);
        expect(r.status, `${path} as ${role}`).toBe(403);
        expect(r.body.error.code).toBe('FORBIDDEN');
      }
    }
  });

  it.skipIf(skip)("another organization's events are invisible: by filter, by target id, by cursor, and in the export", async () => {
    const mine = await events();
    const theirs = await events('', keys.other);
    expect(theirs.map((e) => e.id).filter((id) => mine.some((m) => m.id === id))).toEqual([]);
    expect(theirs.map((e) => e.action)).toEqual(['api_key.create']);
    // An id of this organization's, asked for by the other: nothing, as if it did not exist.
    const target = mine.find((e) => e.action === 'group.create')!;
    expect(await events(`?target_type=group&target_id=${target.target_id}`, keys.other)).toEqual([]);
    // Its first key was made by this organization's admin: that one event of its own names the actor, nothing else does.
    expect((await events(`?actor=${adminActor}`, keys.other)).map((e) => e.id)).toEqual(theirs.map((e) => e.id));
    // A cursor of this organization's pages only the other's own events.
    const page = await api('GET', '/v1/audit?limit=1');
    const after = await events(`?cursor=${page.body.next_cursor}`, keys.other);
    expect(after.every((e) => theirs.some((t) => t.id === e.id))).toBe(true);
    const exported = await fetch(`${s.url}/v1/audit/export`, { headers: { authorization: `Bearer ${keys.other}` } });
    expect(
      (await exported.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual(theirs.map((e) => e.id));
  });

  it.skipIf(skip)('pages by cursor while events keep arriving: none twice, none missing', async () => {
    for (let i = 0; i < 12; i++) await api('POST', '/v1/users', { username: `pager${i}` });
    const seen: string[] = [];
    let cursor = '';
    for (let i = 0; i < 100; i++) {
      const r = await api('GET', `/v1/audit?action=user.create&limit=5${cursor}`);
      seen.push(...r.body.items.map((e: Event) => e.details.username));
      // A new event between pages lands before the first page, never in a later one.
      await api('POST', '/v1/users', { username: `late${i}` });
      if (!r.body.next_cursor) break;
      cursor = `&cursor=${r.body.next_cursor}`;
    }
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `pager${11 - i}`));
  });

  it.skipIf(skip)('GET /v1/audit/export streams JSON lines with the same filters', async () => {
    const res = await fetch(`${s.url}/v1/audit/export?action=user.`, { headers: { authorization: `Bearer ${s.adminKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Event);
    expect(lines.length).toBeGreaterThanOrEqual(13);
    expect(lines.every((e) => e.action === 'user.create' && e.source_ip === '127.0.0.1' && e.request_id)).toBe(true);
    const listed = await events('?action=user.&limit=1000');
    expect(lines.map((e) => e.id)).toEqual(listed.map((e) => e.id));
  });

  it.skipIf(skip)('refused credentials are auth.failed events of the organization they claim; unknown ones stay out of every log', async () => {
    const created = await api('POST', '/v1/api-keys', { name: 'soon revoked', role: 'operator' });
    expect((await api('DELETE', `/v1/api-keys/${created.body.key.id}`)).status).toBe(204);
    const refused = await api('GET', '/v1/systems', undefined, created.body.secret, { 'x-request-id': 'revoked-1' });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toBe('the API key is not valid');
    const [failed] = await events('?action=auth.failed&request_id=revoked-1');
    expect(failed).toMatchObject({
      actor: `api_key:${created.body.key.id}`,
      target_type: 'route',
      target_id: 'GET /v1/systems',
      source_ip: '127.0.0.1',
      details: { reason: 'the API key is revoked' },
    });
    // A key nobody issued belongs to no organization: 401, and no tenant's log holds it.
    expect((await api('GET', '/v1/systems', undefined, 'mk_unknown_0000000000000000000000', { 'x-request-id': 'unknown-1' })).status).toBe(401);
    expect(await events('?request_id=unknown-1')).toEqual([]);
    expect(await events('?request_id=unknown-1', keys.other)).toEqual([]);
    // A System Context request whose signature does not verify: the claimed system's organization sees it, as anonymous.
    const sys = await enrollSystem(s.url, s.enrollmentKey, 'claimed');
    const other = await enrollSystem(s.url, s.enrollmentKey, 'impostor');
    const forged = await signedCall(s.url, sys, 'GET', `/api/systems/${sys.systemId}`, undefined, { privateKeyPem: other.privateKeyPem });
    expect(forged.status).toBe(401);
    const [signature] = await events(`?action=auth.failed&target_id=${encodeURIComponent('GET /api/systems/:id')}`);
    expect(signature).toMatchObject({ actor: 'anonymous', details: { claimed: `system:${sys.systemId}`, reason: expect.stringContaining('does not verify') } });
  });

  it.skipIf(skip)('a flood of refusals writes a bounded number of events, and every request is still a 401', async () => {
    const created = await api('POST', '/v1/api-keys', { name: 'flooded', role: 'viewer' });
    await api('DELETE', `/v1/api-keys/${created.body.key.id}`);
    const statuses = [];
    for (let i = 0; i < 40; i++) statuses.push((await api('GET', '/v1/whoami', undefined, created.body.secret)).status);
    expect(new Set(statuses)).toEqual(new Set([401]));
    const written = await events(`?action=auth.failed&actor=api_key:${created.body.key.id}`);
    // 20 per address and minute (the revoked key of the test before shares the address).
    expect(written.length).toBeLessThanOrEqual(20);
    expect(written.length).toBeGreaterThan(0);
  });

  it.skipIf(skip)('muster audit: a table, --json with filters, and export to a JSON lines file', async () => {
    const listed = await muster(['audit', '--action', 'group.', '--limit', '5'], cli);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^TIME\s+ACTOR\s+ACTION\s+TARGET\s+SOURCE\s+REQUEST$/);
    expect(listed.stdout).toContain('group.create');
    const json = await muster(['audit', '--json', '--action', 'user.create', '--since', '1h', '--limit', '3'], cli);
    expect(json.code, json.stderr).toBe(0);
    const items = JSON.parse(json.stdout) as Event[];
    expect(items).toHaveLength(3);
    expect(items.every((e) => e.action === 'user.create' && e.actor === adminActor)).toBe(true);
    const byTarget = await muster(['audit', '--json', '--target', `user:${items[0]!.target_id}`], cli);
    expect(JSON.parse(byTarget.stdout).map((e: Event) => e.id)).toEqual([items[0]!.id]);
    const file = join(mkdtempSync(join(tmpdir(), 'muster-audit-')), 'audit.jsonl');
    const exported = await muster(['audit', 'export', '--action', 'user.'], cli);
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout.trim().split('\n');
    expect(exported.stderr).toContain(`exported ${lines.length} audit events`);
    expect(lines.map((l) => (JSON.parse(l) as Event).action).every((a) => a === 'user.create')).toBe(true);
    // Through a shell redirection, as an operator would (asynchronously: this process serves the API).
    await promisify(execFile)('sh', ['-c', `"${process.execPath}" "${BIN}" audit export > "${file}"`], { env: { ...process.env, ...cli } });
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBeGreaterThan(lines.length);
    const bad = await muster(['audit', '--since', 'soon'], cli);
    expect(bad.code).toBe(2);
    const operator = await muster(['audit'], { ...cli, MUSTER_API_KEY: keys.operator });
    expect(operator.code).toBe(1);
    expect(operator.stderr).toContain('admin');
  });
});

describe.each(DATABASES)('audit retention in the server on $name', ({ name, skip }) => {
  it.skipIf(skip)('the sweeper started by the server deletes events past audit_retention_days, by its clock', async () => {
    const db = await createTestDatabase(name);
    const adminKey = `mk_test_${'r'.repeat(32)}`;
    const config = loadServerConfig(
      { listen: '127.0.0.1:0', data_dir: db.dataDir, database_url: db.url, log_level: 'silent', bootstrap_api_key: adminKey, audit_retention_days: 30 },
      {},
    );
    // The sweeper's clock runs 31 days ahead: the bootstrap's events are past retention at once.
    const clock = new FakeClock(new Date(Date.now() + 31 * 86_400_000));
    const server = await startServer(config, undefined, { auditClock: clock });
    try {
      await waitFor(async () => {
        const r = await call(server.url, adminKey, 'GET', '/v1/audit');
        return r.status === 200 && r.body.items.length === 0;
      }, 'the bootstrap events to be swept');
    } finally {
      await server.stop();
      await db.drop();
    }
  });
});
