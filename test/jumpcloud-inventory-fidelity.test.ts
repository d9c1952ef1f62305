import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, jumpcloudHeaders } from './support/curl.js';
import { DATABASES } from './support/databases.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { enrollSystem, signedCall, type SignedSystem } from './support/system-context.js';

/** JumpCloud's systems and system users as its documented curl calls and System Context scripts use them. */
describe.each(DATABASES)('JumpCloud inventory as documented, on $name', ({ name, skip }) => {
  let s: TestServer;
  let viewerKey: string;
  let otherKey: string;
  let plain: SignedSystem;
  let nic: string;
  const jc = (key: string, method: string, path: string, body?: unknown) =>
    curl(['-X', method, ...jumpcloudHeaders(key, body !== undefined), ...(body === undefined ? [] : ['-d', JSON.stringify(body)]), `${s.url}/api${path}`]);
  const admin = (method: string, path: string, body?: unknown) => jc(s.adminKey, method, path, body);
  const expect400 = (res: { status: number; body: any }, field: string, what = '') => {
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ error: 'INVALID_ARGUMENT', message: expect.stringContaining(field) });
    expect(res.body.message).toContain(what);
  };

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    viewerKey = (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'viewer', role: 'viewer' })).body.secret;
    otherKey = (await call(s.url, s.adminKey, 'POST', '/v1/organizations', { name: 'Other', slug: 'other' })).body.api_key;
    plain = await enrollSystem(s.url, s.enrollmentKey, 'plain-1');
    // An agent that reports which interface each address is on.
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const enrolled = await call(s.url, s.enrollmentKey, 'POST', '/agent/v1/enroll', {
      public_key: publicKey.export({ type: 'spki', format: 'pem' }),
      facts: {
        hostname: 'nic-1',
        os: 'linux',
        os_release: 'Test OS 1',
        arch: 'x64',
        agent_version: '0.0.0-test',
        ip_addresses: ['10.1.1.5', 'fe80::5'],
        interfaces: [
          { name: 'eth0', address: '10.1.1.5' },
          { name: 'eth1', address: 'fe80::5' },
        ],
      },
    });
    expect(enrolled.status).toBe(201);
    nic = enrolled.body.system_id;
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip)('gives system records a top-level id and each interface its name', async () => {
    const one = await admin('GET', `/systems/${nic}`);
    expect(one.body).toMatchObject({ _id: nic, id: nic });
    expect(one.body.networkInterfaces).toEqual([
      { address: '10.1.1.5', family: 'IPv4', internal: false, name: 'eth0' },
      { address: 'fe80::5', family: 'IPv6', internal: false, name: 'eth1' },
    ]);
    // An agent that does not report interfaces: the name is empty, never guessed.
    expect((await admin('GET', `/systems/${plain.systemId}`)).body.networkInterfaces).toEqual([
      { address: '10.9.8.7', family: 'IPv4', internal: false, name: '' },
    ]);
    expect((await admin('GET', `/systems?filter=id:$eq:${nic}`)).body).toMatchObject({ totalCount: 1, results: [{ id: nic }] });
  });

  it.skipIf(skip)("returns everything but the excluded fields for JumpCloud's ?fields=-a -b", async () => {
    const full = (await admin('GET', `/systems/${nic}`)).body;
    const excluded = await curl([
      '-G',
      ...jumpcloudHeaders(s.adminKey, false),
      '--data-urlencode',
      'fields=-networkInterfaces -attributes',
      `${s.url}/api/systems/${nic}`,
    ]);
    expect(excluded.status).toBe(200);
    expect(Object.keys(excluded.body).sort()).toEqual(
      Object.keys(full)
        .filter((k) => k !== 'networkInterfaces' && k !== 'attributes')
        .sort(),
    );
    const listed = await curl([
      '-G',
      ...jumpcloudHeaders(s.adminKey, false),
      '--data-urlencode',
      'fields=-networkInterfaces -attributes',
      '--data-urlencode',
      `filter=_id:$eq:${nic}`,
      `${s.url}/api/systems`,
    ]);
    expect(listed.body.results[0]).toEqual(excluded.body);
    const included = await admin('GET', `/systems/${nic}?fields=hostname,os`);
    expect(Object.keys(included.body).sort()).toEqual(['_id', 'hostname', 'os']);
    expect400(await admin('GET', `/systems/${nic}?fields=hostname%20-os`), 'fields', 'not both');
  });

  it.skipIf(skip)('looks request field names up among known fields only: prototype names are 400s naming the parameter', async () => {
    for (const path of ['/systems', '/systemusers']) {
      expect400(await admin('GET', `${path}?sort=__proto__`), 'sort', '__proto__');
      expect400(await admin('GET', `${path}?sort=-constructor`), 'sort', 'constructor');
      expect400(await admin('GET', `${path}?filter=__proto__:$eq:x`), 'filter', '__proto__');
      expect400(await admin('GET', `${path}?filter=toString:$eq:x`), 'filter', 'toString');
      expect400(await admin('GET', `${path}?filter=username:$constructor:x`), 'filter', 'operator');
      expect400(await admin('GET', `${path}?limit=5000`), 'limit', '1000');
      expect400(await admin('GET', `${path}?limit=ten`), 'limit', 'integer');
    }
    expect400(await admin('PUT', `/systems/${plain.systemId}`, { constructor: 'x' }), 'constructor', 'not a known field');
    expect400(await admin('POST', '/systemusers', { username: 'proto', toString: 'x' }), 'toString', 'not a known field');
    expect400(await admin('POST', '/commands', { name: 'proto-shell', command: 'true', shell: '__proto__' }), 'shell', 'not supported');
  });

  it.skipIf(skip)('accepts tags with spaces, as the instance-shutdown example sets them, and selects them by a quoted selector', async () => {
    // The System Context example: the machine tags itself on the way down.
    const tagged = await signedCall(s.url, plain, 'PUT', `/api/systems/${plain.systemId}`, { tags: ['stopped servers'] });
    expect(tagged.status).toBe(200);
    expect(tagged.body.tags).toEqual(['stopped servers']);
    expect((await admin('PUT', `/systems/${nic}`, { tags: ['running servers', 'Ünïcode ✓ 服务器'] })).body.tags).toEqual([
      'running servers',
      'Ünïcode ✓ 服务器',
    ]);
    const select = async (selector: string) =>
      (await call(s.url, s.adminKey, 'GET', `/v1/systems?select=${encodeURIComponent(selector)}`)).body.items.map((x: { id: string }) => x.id);
    expect(await select('tag:"stopped servers"')).toEqual([plain.systemId]);
    expect(await select('tag:"servers" and not tag:"stopped servers"')).toEqual([nic]);
    expect(await select('tag:"服务器"')).toEqual([nic]);
    const unquoted = await call(s.url, s.adminKey, 'GET', `/v1/systems?select=${encodeURIComponent('tag:stopped servers')}`);
    expect(unquoted.status).toBe(400);
    expect(unquoted.body.error.message).toContain('servers');
    expect((await admin('GET', `/systems?filter=${encodeURIComponent('tags:$eq:stopped servers')}`)).body.results.map((x: { _id: string }) => x._id)).toEqual([
      plain.systemId,
    ]);
    const job = await call(s.url, s.adminKey, 'POST', '/v1/jobs', { content: 'true', targets: { selector: 'tag:"stopped servers"' } });
    expect(job.body.runs.map((r: { system_id: string }) => r.system_id)).toEqual([plain.systemId]);
    expect((await admin('PUT', `/systems/${nic}`, { tags: ['x'.repeat(128), '✓'.repeat(128)] })).status).toBe(200);
    for (const bad of [['x'.repeat(129)], ['line\nbreak'], ['   '], ['bell\u0007']])
      expect400(await admin('PUT', `/systems/${nic}`, { tags: bad }), 'tags[0]', 'printable');
  });

  it.skipIf(skip)('serves the v1 system users endpoints over the same users', async () => {
    // JumpCloud's documented create call.
    const created = await curl([
      '-X',
      'POST',
      `${s.url}/api/systemusers`,
      '-H',
      'Accept: application/json',
      '-H',
      'Content-Type: application/json',
      '-H',
      `x-api-key: ${s.adminKey}`,
      '-d',
      '{  "username":"jdoe",  "email":"jdoe@example.com",  "firstname":"John",  "lastname":"Doe" }',
    ]);
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      _id: expect.stringMatching(/^[a-f0-9]{24}$/),
      username: 'jdoe',
      email: 'jdoe@example.com',
      firstname: 'John',
      lastname: 'Doe',
      organization: expect.any(String),
      created: expect.any(String),
    });
    const id = created.body._id;
    expect((await call(s.url, s.adminKey, 'GET', `/v1/users/${id}`)).body).toMatchObject({ username: 'jdoe', first_name: 'John', last_name: 'Doe' });
    expect((await jc(viewerKey, 'GET', `/systemusers/${id}`)).body).toEqual(created.body);
    // The defaults a client sends for what muster does not manage are accepted.
    const defaults = await admin('POST', '/systemusers', {
      username: 'asmith',
      email: '',
      sudo: false,
      passwordless_sudo: false,
      allow_public_key: true,
      tags: [],
      attributes: [],
      displayname: '',
    });
    expect(defaults.status).toBe(200);
    const put = await admin('PUT', `/systemusers/${id}`, { email: 'john@example.com', firstname: 'Johnny' });
    expect(put.body).toMatchObject({ _id: id, username: 'jdoe', email: 'john@example.com', firstname: 'Johnny', lastname: 'Doe' });
    const list = await jc(viewerKey, 'GET', '/systemusers?limit=1&skip=0&sort=-username');
    expect(list.body).toMatchObject({ totalCount: 2, results: [{ username: 'jdoe' }] });
    expect((await jc(viewerKey, 'GET', '/systemusers?limit=1&skip=1&sort=-username')).body.results.map((u: { username: string }) => u.username)).toEqual([
      'asmith',
    ]);
    expect((await jc(viewerKey, 'GET', '/systemusers?filter=email:$regex:EXAMPLE')).body.results.map((u: { username: string }) => u.username)).toEqual([
      'jdoe',
    ]);
    expect(Object.keys((await jc(viewerKey, 'GET', '/systemusers?fields=username')).body.results[0]).sort()).toEqual(['_id', 'username']);
    // The same users bind to systems through v2.
    expect((await admin('POST', `/v2/systems/${nic}/associations`, { op: 'add', type: 'user', id })).status).toBe(204);
    expect((await admin('GET', `/v2/systems/${nic}/users`)).body[0]).toMatchObject({ id, type: 'user' });
    // Validation, roles, organizations, systems.
    expect400(await admin('POST', '/systemusers', { username: 'Bad Name' }), 'username');
    expect400(await admin('POST', '/systemusers', { username: 'root2', sudo: true }), 'sudo', 'does not manage accounts');
    expect400(await admin('POST', '/systemusers', { username: 'root3', password: 'hunter2' }), 'password', 'passwords');
    expect400(await admin('PUT', `/systemusers/${id}`, { department: 'Ops' }), 'department');
    expect((await admin('POST', '/systemusers', { username: 'jdoe' })).status).toBe(409);
    expect((await jc(viewerKey, 'POST', '/systemusers', { username: 'viewer-made' })).status).toBe(403);
    expect((await jc(viewerKey, 'PUT', `/systemusers/${id}`, { email: 'x@example.com' })).status).toBe(403);
    expect((await curl(['-H', 'Accept: application/json', `${s.url}/api/systemusers`])).status).toBe(401);
    expect((await jc(otherKey, 'GET', `/systemusers/${id}`)).status).toBe(404);
    expect((await jc(otherKey, 'DELETE', `/systemusers/${id}`)).status).toBe(404);
    expect((await jc(otherKey, 'GET', '/systemusers')).body).toEqual({ totalCount: 0, results: [] });
    expect((await signedCall(s.url, plain, 'GET', '/api/systemusers')).status).toBe(401);
    const deleted = await admin('DELETE', `/systemusers/${id}`);
    expect(deleted.body).toMatchObject({ _id: id, username: 'jdoe' });
    expect((await admin('GET', `/systemusers/${id}`)).status).toBe(404);
    expect((await admin('GET', `/v2/systems/${nic}/users`)).body).toEqual([]);
  });
});
