import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { FakeAgent } from './support/fake-agent.js';
import { waitFor } from './support/processes.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { enrollSystem } from './support/system-context.js';

/** Admin faces of the inventory: native /v1 and JumpCloud-compatible /api, each with happy, validation, 401, 403 and other-organization cases. */
describe.each(DATABASES)('inventory admin API on $name', ({ name, skip }) => {
  let s: TestServer;
  let web: FakeAgent;
  let db: FakeAgent;
  let viewerKey: string;
  let otherKey: string;
  const admin = (method: string, path: string, body?: unknown) => call(s.url, s.adminKey, method, path, body);
  const jc = (key: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    call(s.url, undefined, method, path, body, { ...(key ? { 'x-api-key': key } : {}), ...headers });

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    web = await FakeAgent.enroll(s.url, s.enrollmentKey, 'web-1');
    db = await FakeAgent.enroll(s.url, s.enrollmentKey, 'db-1');
    viewerKey = (await admin('POST', '/v1/api-keys', { name: 'viewer', role: 'viewer' })).body.secret;
    otherKey = (await admin('POST', '/v1/organizations', { name: 'Other', slug: 'other' })).body.api_key;
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip)('native systems: read, change, validate, refuse', async () => {
    const changed = await admin('PATCH', `/v1/systems/${web.systemId}`, {
      display_name: 'Web One',
      description: 'front',
      tags: ['web', 'prod'],
      attributes: { rack: 'r1' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ display_name: 'Web One', description: 'front', tags: ['web', 'prod'], attributes: { rack: 'r1' }, hostname: 'web-1' });
    expect(changed.body.first_contact).toBeTruthy();
    const selected = await admin('GET', `/v1/systems?select=${encodeURIComponent('tag:prod and name:one and comments:front and ip:127.0.0')}`);
    expect(selected.body.items.map((x: { id: string }) => x.id)).toEqual([web.systemId]);
    for (const [body, field, message] of [
      [{ hostname: 'x' }, 'hostname', 'cannot be changed'],
      [{ id: 'x' }, 'id', 'cannot be changed'],
      [{ colour: 'red' }, 'colour', 'not a known field'],
      [{ tags: ['no\ttabs'] }, 'tags[0]', 'printable'],
    ] as const) {
      const res = await admin('PATCH', `/v1/systems/${web.systemId}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.message).toContain(field);
      expect(res.body.error.message).toContain(message);
    }
    expect((await call(s.url, undefined, 'PATCH', `/v1/systems/${web.systemId}`, { description: 'x' })).status).toBe(401);
    expect((await call(s.url, viewerKey, 'PATCH', `/v1/systems/${web.systemId}`, { description: 'x' })).status).toBe(403);
    expect((await call(s.url, otherKey, 'PATCH', `/v1/systems/${web.systemId}`, { description: 'x' })).status).toBe(404);
    expect((await call(s.url, otherKey, 'GET', `/v1/systems/${web.systemId}`)).status).toBe(404);
    expect((await call(s.url, otherKey, 'DELETE', `/v1/systems/${web.systemId}`)).status).toBe(404);
    expect((await call(s.url, viewerKey, 'DELETE', `/v1/systems/${web.systemId}`)).status).toBe(403);
  });

  it.skipIf(skip)('native groups: CRUD, members, selectors', async () => {
    const created = await admin('POST', '/v1/groups', { name: 'prod', description: 'production' });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await admin('POST', '/v1/groups', { name: 'PROD' })).status).toBe(409);
    expect((await admin('POST', '/v1/groups', { name: '' })).status).toBe(400);
    expect((await admin('POST', '/v1/groups', { name: 'x', extra: 1 })).body.error.message).toContain('extra');
    expect((await admin('POST', `/v1/groups/${id}/members`, { system_id: web.systemId })).status).toBe(204);
    expect((await admin('POST', '/v1/groups/prod/members', { system_id: web.systemId })).status).toBe(204);
    expect((await admin('GET', `/v1/groups/${id}/members`)).body.items).toEqual([web.systemId]);
    expect((await admin('GET', '/v1/systems?select=group:prod')).body.items.map((x: { id: string }) => x.id)).toEqual([web.systemId]);
    expect((await admin('GET', `/v1/systems/${web.systemId}/groups`)).body.items.map((g: { name: string }) => g.name)).toEqual(['prod']);
    expect((await admin('PATCH', `/v1/groups/${id}`, { name: 'production' })).body.name).toBe('production');
    expect((await admin('POST', `/v1/groups/${id}/members`, { system_id: '0'.repeat(24) })).status).toBe(404);
    expect((await call(s.url, undefined, 'GET', '/v1/groups')).status).toBe(401);
    expect((await call(s.url, viewerKey, 'GET', '/v1/groups')).status).toBe(200);
    expect((await call(s.url, viewerKey, 'POST', '/v1/groups', { name: 'v' })).status).toBe(403);
    expect((await call(s.url, otherKey, 'GET', `/v1/groups/${id}`)).status).toBe(404);
    expect((await call(s.url, otherKey, 'POST', `/v1/groups/${id}/members`, { system_id: web.systemId })).status).toBe(404);
    expect((await admin('DELETE', `/v1/groups/${id}/members/${web.systemId}`)).status).toBe(204);
    expect((await admin('GET', `/v1/groups/${id}/members`)).body.items).toEqual([]);
    expect((await admin('DELETE', `/v1/groups/${id}`)).status).toBe(204);
    expect((await admin('GET', `/v1/groups/${id}`)).status).toBe(404);
  });

  it.skipIf(skip)('native users: CRUD and bindings', async () => {
    const created = await admin('POST', '/v1/users', { username: 'deploy', email: 'deploy@example.com', first_name: 'De' });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await admin('POST', '/v1/users', { username: 'deploy' })).status).toBe(409);
    const bad = await admin('POST', '/v1/users', { username: 'Bad Name' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('username');
    expect((await admin('POST', `/v1/users/${id}/systems`, { system_id: db.systemId })).status).toBe(204);
    expect((await admin('GET', `/v1/users/${id}/systems`)).body.items).toEqual([db.systemId]);
    expect((await admin('GET', `/v1/systems/${db.systemId}/users`)).body.items.map((u: { username: string }) => u.username)).toEqual(['deploy']);
    expect((await admin('PATCH', `/v1/users/${id}`, { last_name: 'Ploy' })).body).toMatchObject({ username: 'deploy', last_name: 'Ploy' });
    expect((await call(s.url, undefined, 'GET', '/v1/users')).status).toBe(401);
    expect((await call(s.url, viewerKey, 'DELETE', `/v1/users/${id}`)).status).toBe(403);
    expect((await call(s.url, otherKey, 'GET', `/v1/users/${id}`)).status).toBe(404);
    expect((await admin('DELETE', `/v1/users/${id}/systems/${db.systemId}`)).status).toBe(204);
    expect((await admin('DELETE', `/v1/users/${id}`)).status).toBe(204);
  });

  it.skipIf(skip)('enrollment keys carry groups and tags, expire, run out and can be revoked', async () => {
    await admin('POST', '/v1/groups', { name: 'fleet' });
    const key = await admin('POST', '/v1/enrollment-keys', {
      name: 'asg',
      tags: ['asg'],
      groups: ['fleet'],
      max_uses: 1,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(key.status).toBe(201);
    expect(key.body.key).toMatchObject({ max_uses: 1, uses: 0 });
    const a = await FakeAgent.enroll(s.url, key.body.secret, 'asg-1');
    expect((await admin('GET', `/v1/systems/${a.systemId}`)).body.tags).toEqual(['asg']);
    expect((await admin('GET', `/v1/systems/${a.systemId}/groups`)).body.items.map((g: { name: string }) => g.name)).toEqual(['fleet']);
    await expect(FakeAgent.enroll(s.url, key.body.secret, 'asg-2')).rejects.toThrow(/401/);
    expect((await admin('POST', '/v1/enrollment-keys', { name: 'x', groups: ['nope'] })).status).toBe(404);
    expect((await admin('POST', '/v1/enrollment-keys', { name: 'x', expires_at: '2000-01-01T00:00:00Z' })).body.error.message).toContain('expires_at');
    expect((await admin('POST', '/v1/enrollment-keys', { name: 'x', max_uses: 0 })).status).toBe(400);
    const revoked = await admin('POST', '/v1/enrollment-keys', { name: 'gone' });
    expect((await admin('DELETE', `/v1/enrollment-keys/${revoked.body.key.id}`)).status).toBe(204);
    await expect(FakeAgent.enroll(s.url, revoked.body.secret, 'gone-1')).rejects.toThrow(/401/);
  });

  it.skipIf(skip)('JumpCloud /api/systems: list with limit, skip, sort, fields and filter; one record; PUT; DELETE', async () => {
    const list = await jc(s.adminKey, 'GET', '/api/systems?limit=1&skip=0&sort=-hostname&fields=hostname%20displayName');
    expect(list.status).toBe(200);
    expect(list.body.totalCount).toBeGreaterThanOrEqual(2);
    expect(list.body.results).toHaveLength(1);
    expect(Object.keys(list.body.results[0]).sort()).toEqual(['_id', 'displayName', 'hostname']);
    const filtered = await jc(s.adminKey, 'GET', '/api/systems?filter=hostname:$eq:db-1');
    expect(filtered.body).toMatchObject({ totalCount: 1, results: [{ _id: db.systemId, hostname: 'db-1' }] });
    expect((await jc(s.adminKey, 'GET', '/api/systems?filter=hostname:$regex:b-')).body.totalCount).toBeGreaterThanOrEqual(2);
    expect((await jc(s.adminKey, 'GET', '/api/systems?filter=bogus')).status).toBe(400);
    expect((await jc(s.adminKey, 'GET', '/api/systems?sort=secret')).body.message).toContain('sort');
    expect((await jc(s.adminKey, 'GET', '/api/systems?limit=5000')).status).toBe(400);
    const one = await jc(s.adminKey, 'GET', `/api/systems/${db.systemId}`, undefined, { 'x-org-id': '' });
    expect(one.body).toMatchObject({
      _id: db.systemId,
      hostname: 'db-1',
      displayName: 'db-1',
      os: 'linux',
      version: 'Test OS 1',
      arch: 'x64',
      agentVersion: '0.0.0-test',
      active: false,
      tags: [],
    });
    expect(one.body.firstContact).toBeTruthy();
    const put = await jc(s.adminKey, 'PUT', `/api/systems/${db.systemId}`, { displayName: 'database', tags: ['db'] });
    expect(put.body).toMatchObject({ displayName: 'database', tags: ['db'] });
    const immutable = await jc(s.adminKey, 'PUT', `/api/systems/${db.systemId}`, { _id: 'x' });
    expect(immutable.status).toBe(400);
    expect(immutable.body.message).toContain('_id: cannot be changed');
    expect((await jc(s.adminKey, 'PUT', `/api/systems/${db.systemId}`, { wat: 1 })).body.message).toContain('wat: is not a known field');
    expect((await jc(undefined, 'GET', '/api/systems')).status).toBe(401);
    expect((await jc(s.adminKey, 'GET', '/api/systems', undefined, { 'x-org-id': 'someone-else' })).status).toBe(401);
    expect((await jc(viewerKey, 'PUT', `/api/systems/${db.systemId}`, { displayName: 'x' })).status).toBe(403);
    expect((await jc(otherKey, 'GET', `/api/systems/${db.systemId}`)).status).toBe(404);
    expect((await jc(otherKey, 'GET', '/api/systems')).body.totalCount).toBe(0);
  });

  it.skipIf(skip)('JumpCloud v2 systemgroups and system associations', async () => {
    const g = await jc(s.adminKey, 'POST', '/api/v2/systemgroups', { name: 'jc-group' });
    expect(g.status).toBe(201);
    expect(g.body).toMatchObject({ name: 'jc-group', type: 'system_group' });
    expect((await jc(s.adminKey, 'POST', '/api/v2/systemgroups', { nope: 1 })).status).toBe(400);
    const add = await jc(s.adminKey, 'POST', `/api/v2/systemgroups/${g.body.id}/members`, { op: 'add', type: 'system', id: db.systemId });
    expect(add.status).toBe(204);
    expect((await jc(s.adminKey, 'GET', `/api/v2/systemgroups/${g.body.id}/members`)).body).toEqual([
      { attributes: null, to: { attributes: null, id: db.systemId, type: 'system' } },
    ]);
    expect((await jc(s.adminKey, 'GET', `/api/v2/systems/${db.systemId}/memberof`)).body[0]).toMatchObject({ id: g.body.id, type: 'system_group' });
    expect((await jc(s.adminKey, 'GET', '/api/v2/systemgroups?filter=name:eq:jc-group')).body).toHaveLength(1);
    expect((await jc(s.adminKey, 'POST', `/api/v2/systemgroups/${g.body.id}/members`, { op: 'move', type: 'system', id: db.systemId })).status).toBe(400);
    const user = await admin('POST', '/v1/users', { username: 'jcuser' });
    expect((await jc(s.adminKey, 'POST', `/api/v2/systems/${db.systemId}/associations`, { op: 'add', type: 'user', id: user.body.id })).status).toBe(204);
    const assoc = await jc(s.adminKey, 'GET', `/api/v2/systems/${db.systemId}/associations?targets=user`);
    expect(assoc.body).toEqual([{ attributes: null, to: { attributes: null, id: user.body.id, type: 'user' } }]);
    expect((await jc(s.adminKey, 'GET', `/api/v2/systems/${db.systemId}/users`)).body[0]).toMatchObject({ id: user.body.id, type: 'user' });
    expect((await jc(s.adminKey, 'PUT', `/api/v2/systemgroups/${g.body.id}`, { name: 'jc-renamed' })).body.name).toBe('jc-renamed');
    expect((await jc(undefined, 'GET', '/api/v2/systemgroups')).status).toBe(401);
    expect((await jc(viewerKey, 'POST', '/api/v2/systemgroups', { name: 'v' })).status).toBe(403);
    expect((await jc(viewerKey, 'POST', `/api/v2/systemgroups/${g.body.id}/members`, { op: 'add', type: 'system', id: web.systemId })).status).toBe(403);
    expect((await jc(otherKey, 'GET', `/api/v2/systemgroups/${g.body.id}`)).status).toBe(404);
    expect((await jc(otherKey, 'GET', `/api/v2/systems/${db.systemId}/memberof`)).status).toBe(404);
    expect((await jc(s.adminKey, 'DELETE', `/api/v2/systemgroups/${g.body.id}`)).status).toBe(204);
  });

  it.skipIf(skip)('facts an agent reports on its open connection show on the system', async () => {
    await web.connect();
    web.send({
      type: 'facts',
      facts: {
        hostname: 'web-1',
        os: 'linux',
        os_release: 'Test OS 2',
        arch: 'arm64',
        kernel: '6.1',
        cpus: 4,
        memory_bytes: 8e9,
        uptime_s: 60,
        ip_addresses: ['10.4.4.4'],
        agent_version: '0.0.1-test',
      },
    });
    const seen = await waitFor(async () => {
      const { body } = await admin('GET', `/v1/systems/${web.systemId}`);
      return body.os_release === 'Test OS 2' ? body : undefined;
    }, 'the facts to be stored');
    expect(seen).toMatchObject({
      arch: 'arm64',
      kernel: '6.1',
      ip_addresses: ['10.4.4.4'],
      agent_version: '0.0.1-test',
      facts: { cpus: 4, memory_bytes: 8e9, uptime_s: 60 },
    });
    await web.close();
  });

  it.skipIf(skip)('deleting a system keeps its runs, removes its memberships, and stops its key', async () => {
    const doomed = await FakeAgent.enroll(s.url, s.enrollmentKey, 'doomed');
    await doomed.connect();
    const job = await admin('POST', '/v1/jobs', { content: 'true', targets: { system_ids: [doomed.systemId] } });
    const closed = new Promise<number>((resolve) => doomed.socket!.once('close', (code) => resolve(code)));
    expect((await jc(s.adminKey, 'DELETE', `/api/systems/${doomed.systemId}`)).body).toMatchObject({ _id: doomed.systemId, hostname: 'doomed' });
    expect(await closed).toBe(4003);
    expect((await admin('GET', `/v1/systems/${doomed.systemId}`)).status).toBe(404);
    expect((await admin('GET', `/v1/runs/${job.body.runs[0].id}`)).status).toBe(200);
    await expect(doomed.connect()).rejects.toThrow(/401/);
  });
});

describe.each(DATABASES)('public IP as the server sees it on $name', ({ name, skip }) => {
  it.skipIf(skip)('honours X-Forwarded-For only with trust_proxy, and ip: selects on it', async () => {
    const forwarded = { 'x-forwarded-for': '198.51.100.9' };
    for (const trust of [false, true]) {
      const s = await startTestServer(name, { trust_proxy: trust });
      try {
        const sys = await enrollSystem(s.url, s.enrollmentKey, 'behind-proxy', 'rsa', forwarded);
        const got = await call(s.url, s.adminKey, 'GET', `/v1/systems/${sys.systemId}`);
        expect(got.body.public_ip).toBe(trust ? '198.51.100.9' : '127.0.0.1');
        const selected = await call(s.url, s.adminKey, 'GET', `/v1/systems?select=${encodeURIComponent('ip:198.51.100.9')}`);
        expect(selected.body.items.length).toBe(trust ? 1 : 0);
      } finally {
        await s.stop();
      }
    }
  });
});
