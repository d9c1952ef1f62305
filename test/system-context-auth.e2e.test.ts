import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { enrollSystem, joyentCall, replay, signedCall, type SignedSystem } from './support/system-context.js';

/**
 * System Context authentication and scope against a real server over HTTP:
 * every way a signature can be wrong answers 401 saying which check failed,
 * and a system reaches its own record and memberships only.
 */
describe.each(DATABASES)('System Context authentication and scope on $name', ({ name, skip }) => {
  let s: TestServer;
  let me: SignedSystem;
  let other: SignedSystem;
  let groupId: string;
  const own = () => `/api/systems/${me.systemId}`;

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    me = await enrollSystem(s.url, s.enrollmentKey, 'self-1');
    other = await enrollSystem(s.url, s.enrollmentKey, 'other-1');
    groupId = (await call(s.url, s.adminKey, 'POST', '/v1/groups', { name: 'autoscale' })).body.id;
  });
  afterAll(async () => s?.stop());

  function expect401(res: { status: number; body: any }, check: RegExp): void {
    expect(res.status, JSON.stringify(res.body)).toBe(401);
    expect(res.body.error).toBe('UNAUTHENTICATED');
    expect(res.body.message).toMatch(check);
    expect(JSON.stringify(res.body)).not.toContain(other.systemId);
  }

  it.skipIf(skip)('fetches and changes its own record with the reference signing string', async () => {
    const reference = { headers: ['request-line', 'date'] };
    const got = await signedCall(s.url, me, 'GET', own(), undefined, reference);
    expect(got.authorization).toMatch(/^Signature keyId="system\/\w+",headers="request-line date",algorithm="rsa-sha256",signature="/);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ _id: me.systemId, hostname: 'self-1', displayName: 'self-1' });
    const put = await signedCall(
      s.url,
      me,
      'PUT',
      own(),
      { displayName: 'renamed', description: 'asg member', tags: ['asg'], attributes: { role: 'web' } },
      reference,
    );
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ displayName: 'renamed', description: 'asg member', tags: ['asg'], attributes: { role: 'web' } });
  });

  it.skipIf(skip)('refuses every malformed or wrong signature with 401 naming the check', async () => {
    const other2 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const cases: Array<[string, Promise<{ status: number; body: any }>, RegExp]> = [
      [
        'no signature param',
        signedCall(s.url, me, 'GET', own(), undefined, { authorization: () => `Signature keyId="system/${me.systemId}"` }),
        /no signature/,
      ],
      ['no keyId', signedCall(s.url, me, 'GET', own(), undefined, { authorization: (a) => a.replace(/keyId="[^"]*",/, '') }), /no keyId/],
      ['garbage', signedCall(s.url, me, 'GET', own(), undefined, { authorization: () => 'Signature ???' }), /no keyId/],
      ['bad keyId form', signedCall(s.url, me, 'GET', own(), undefined, { keyId: `user/${me.systemId}` }), /keyId must be/],
      ['unknown keyId', signedCall(s.url, me, 'GET', own(), undefined, { keyId: `system/${'0'.repeat(24)}` }), /does not verify/],
      ['wrong key', signedCall(s.url, me, 'GET', own(), undefined, { privateKeyPem: other2 }), /does not verify/],
      ['altered path', signedCall(s.url, me, 'GET', own(), undefined, { sendPath: `${own()}/` }), /does not verify|not part/],
      ['altered query', signedCall(s.url, me, 'GET', own(), undefined, { sendPath: `${own()}?fields=hostname` }), /does not verify/],
      ['altered Date', signedCall(s.url, me, 'GET', own(), undefined, { sendDate: new Date(Date.now() + 1000).toUTCString() }), /does not verify/],
      ['missing Date', signedCall(s.url, me, 'GET', own(), undefined, { sendDate: null }), /Date header/],
      ['stale Date', signedCall(s.url, me, 'GET', own(), undefined, { date: new Date(Date.now() - 6 * 60_000) }), /away from the server clock/],
      ['future Date', signedCall(s.url, me, 'GET', own(), undefined, { date: new Date(Date.now() + 6 * 60_000) }), /away from the server clock/],
      [
        'unsupported algorithm',
        signedCall(s.url, me, 'GET', own(), undefined, { authorization: (a) => a.replace('rsa-sha256', 'hmac-sha1') }),
        /unsupported signature algorithm hmac-sha1/,
      ],
      [
        'algorithm not matching the key',
        signedCall(s.url, me, 'GET', own(), undefined, { authorization: (a) => a.replace('rsa-sha256', 'ed25519') }),
        /does not verify/,
      ],
      ['date not signed', signedCall(s.url, me, 'GET', own(), undefined, { headers: ['request-line'] }), /date header must be signed/],
      ['request line not signed', signedCall(s.url, me, 'GET', own(), undefined, { headers: ['date'] }), /request line/],
      [
        'body not matching the digest',
        signedCall(
          s.url,
          me,
          'PUT',
          own(),
          { displayName: 'a' },
          { headers: ['(request-target)', 'date', 'digest'], sendBody: JSON.stringify({ displayName: 'b' }) },
        ),
        /Digest/,
      ],
    ];
    for (const [what, pending, check] of cases) {
      const res = await pending;
      expect(res.status, what).toBe(401);
      expect401(res, check);
    }
  });

  it.skipIf(skip)('refuses a replayed PUT, POST or DELETE within the window, but not a repeated GET', async () => {
    const first = await signedCall(s.url, me, 'PUT', own(), { description: 'once' });
    expect(first.status).toBe(200);
    expect401(await replay(s.url, 'PUT', own(), first, { description: 'once' }), /already used \(replay\)/);
    const post = await signedCall(s.url, me, 'POST', `/api/v2/systemgroups/${groupId}/members`, { op: 'add', type: 'system', id: me.systemId });
    expect(post.status).toBe(204);
    expect401(await replay(s.url, 'POST', `/api/v2/systemgroups/${groupId}/members`, post, { op: 'add', type: 'system', id: me.systemId }), /replay/);
    const get = await signedCall(s.url, me, 'GET', own());
    expect((await replay(s.url, 'GET', own(), get)).status).toBe(200);
  });

  it.skipIf(skip)('accepts the draft-cavage forms: (request-target), host, digest', async () => {
    const headers = ['(request-target)', 'host', 'date', 'digest'];
    const put = await signedCall(s.url, me, 'PUT', own(), { displayName: 'cavage' }, { headers });
    expect(put.status).toBe(200);
    expect(put.body.displayName).toBe('cavage');
    const hostAltered = await signedCall(s.url, me, 'GET', own(), undefined, { headers, authorization: (a) => a });
    expect(hostAltered.status).toBe(200);
  });

  it.skipIf(skip)('accepts Ed25519 system keys', async () => {
    const ed = await enrollSystem(s.url, s.enrollmentKey, 'ed-1', 'ed25519');
    const got = await signedCall(s.url, ed, 'GET', `/api/systems/${ed.systemId}`);
    expect(got.authorization).toContain('algorithm="ed25519"');
    expect(got.status).toBe(200);
    expect((await signedCall(s.url, ed, 'GET', `/api/systems/${me.systemId}`)).status).toBe(401);
  });

  it.skipIf(skip)("Joyent's http-signature, an independent signer, reaches the same endpoints", async () => {
    const got = await joyentCall(s.url, me, 'GET', own(), undefined, ['request-line', 'date']);
    expect(got.status).toBe(200);
    expect(got.body._id).toBe(me.systemId);
    const put = await joyentCall(s.url, me, 'PUT', own(), { displayName: 'joyent' }, ['(request-target)', 'host', 'date', 'digest']);
    expect(put.status).toBe(200);
    expect(put.body.displayName).toBe('joyent');
    expect((await joyentCall(s.url, me, 'GET', `/api/v2/systems/${me.systemId}/memberof`, undefined, ['(request-target)', 'date'])).status).toBe(200);
    expect((await joyentCall(s.url, me, 'GET', `/api/systems/${other.systemId}`, undefined, ['request-line', 'date'])).status).toBe(401);
  });

  it.skipIf(skip)('stays within the reference scope: its own id, the listed endpoints; 401 elsewhere', async () => {
    const user = (await call(s.url, s.adminKey, 'POST', '/v1/users', { username: 'ctx' })).body.id;
    const ok: Array<[string, string, unknown, number]> = [
      ['GET', `/api/v2/systems/${me.systemId}/memberof`, undefined, 200],
      ['GET', `/api/v2/systems/${me.systemId}/associations?targets=system_group`, undefined, 200],
      ['GET', `/api/v2/systems/${me.systemId}/users`, undefined, 200],
      ['POST', `/api/v2/systems/${me.systemId}/associations`, { op: 'add', type: 'user', id: user }, 204],
      ['POST', `/api/v2/systems/${me.systemId}/associations`, { op: 'add', type: 'system_group', id: groupId }, 204],
      ['POST', `/api/v2/systemgroups/${groupId}`, { op: 'remove', type: 'system', id: me.systemId }, 204],
      ['POST', `/api/v2/systemgroups/autoscale/members`, { op: 'add', type: 'system', id: me.systemId }, 204],
    ];
    for (const [method, path, body, status] of ok) expect((await signedCall(s.url, me, method, path, body)).status, `${method} ${path}`).toBe(status);
    const users = await signedCall(s.url, me, 'GET', `/api/v2/systems/${me.systemId}/users`);
    expect(users.body.map((u: { id: string }) => u.id)).toEqual([user]);
    const refused: Array<[string, string, unknown]> = [
      ['GET', '/api/systems', undefined],
      ['GET', `/api/systems/${other.systemId}`, undefined],
      ['PUT', `/api/systems/${other.systemId}`, { displayName: 'x' }],
      ['DELETE', `/api/systems/${other.systemId}`, undefined],
      ['GET', `/api/v2/systems/${other.systemId}/memberof`, undefined],
      ['POST', `/api/v2/systems/${other.systemId}/associations`, { op: 'add', type: 'system_group', id: groupId }],
      ['POST', `/api/v2/systemgroups/${groupId}/members`, { op: 'add', type: 'system', id: other.systemId }],
      ['POST', `/api/v2/systemgroups/${groupId}`, { op: 'add', type: 'system', id: other.systemId }],
      ['GET', '/api/v2/systemgroups', undefined],
      ['POST', '/api/v2/systemgroups', { name: 'mine' }],
      ['GET', `/api/v2/systemgroups/${groupId}/members`, undefined],
      ['DELETE', `/api/v2/systemgroups/${groupId}`, undefined],
      ['GET', '/api/commands', undefined],
      ['GET', '/api/nowhere', undefined],
    ];
    for (const [method, path, body] of refused) {
      const res = await signedCall(s.url, me, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error).toBe('UNAUTHENTICATED');
    }
    const members = await call(s.url, s.adminKey, 'GET', `/v1/groups/${groupId}/members`);
    expect(members.body.items).toEqual([me.systemId]);
  });

  it.skipIf(skip)('may change name, description, tags and attributes only (400 naming the field)', async () => {
    for (const field of ['_id', 'organization', 'lastContact', 'firstContact', 'hostname', 'agentVersion', 'publicKey']) {
      const res = await signedCall(s.url, me, 'PUT', own(), { [field]: 'x' });
      expect(res.status, field).toBe(400);
      expect(res.body.message).toContain(field);
    }
    expect((await signedCall(s.url, me, 'PUT', own(), { displayName: '' })).body.message).toContain('displayName');
    expect((await signedCall(s.url, me, 'PUT', own(), '{"displayName": ')).status).toBe(400);
  });

  it.skipIf(skip)('after deleting itself, its signatures answer 401', async () => {
    const doomed = await enrollSystem(s.url, s.enrollmentKey, 'doomed-1');
    const path = `/api/systems/${doomed.systemId}`;
    const gone = await signedCall(s.url, doomed, 'DELETE', path);
    expect(gone.status).toBe(200);
    expect(gone.body._id).toBe(doomed.systemId);
    expect401(await signedCall(s.url, doomed, 'GET', path), /does not verify/);
    expect((await call(s.url, s.adminKey, 'GET', `/v1/systems/${doomed.systemId}`)).status).toBe(404);
  });
});
