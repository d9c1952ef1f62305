import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteAuth } from '../src/faces/face.js';
import { DATABASES } from './support/databases.js';
import { call, startTestServer, type TestServer } from './support/server.js';

/**
 * Every route of every face says how it authenticates: which resolvers it
 * accepts and the least role an API key needs. The matrix then asks each
 * route as a client would, with no credentials and with a key one role short,
 * and expects 401 and 403, before anything about the (absent) body or the
 * (made-up) ids in its path.
 */
const RANK = { viewer: 0, operator: 1, admin: 2 } as const;
const BELOW = { viewer: undefined, operator: 'viewer', admin: 'operator' } as const;

const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, 'no-such-id').replace(/\*$/, 'x');

describe.each(DATABASES)('how every route authenticates on $name', ({ name, skip }) => {
  let s: TestServer;
  let routes: RouteAuth[];
  const keys: Record<'viewer' | 'operator', string> = { viewer: '', operator: '' };
  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    routes = s.server.routeAuth();
    for (const role of ['viewer', 'operator'] as const) keys[role] = (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: role, role })).body.secret;
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip)('every route of every face declares its resolvers and its role', () => {
    expect(new Set(routes.map((r) => r.face))).toEqual(new Set(['native', 'jumpcloud', 'puppetdb', 'agent', 'beyondtrust', 'simplemdm']));
    expect(routes.length).toBeGreaterThan(100);
    const undeclared = routes.filter((r) => r.resolvers.length === 0 || !(r.role in RANK));
    expect(undeclared).toEqual([]);
    // What each face accepts.
    const accepted = (face: string) => [...new Set(routes.filter((r) => r.face === face && !r.anonymous).map((r) => r.resolvers.join(',')))];
    expect(accepted('native')).toEqual(['api_key']);
    expect(accepted('jumpcloud')).toEqual(['api_key,system_signature']);
    expect(accepted('puppetdb')).toEqual(['api_key']);
    expect(accepted('beyondtrust')).toEqual(['api_key']);
    expect(accepted('simplemdm')).toEqual(['api_key']);
    // The agent's connection is a system's signed upgrade; its enrollment takes the route's own credential.
    expect(accepted('agent')).toEqual(['system_signature']);
    expect(routes.find((r) => r.url === '/agent/v1/enroll')).toMatchObject({ resolvers: ['enrollment_key'], anonymous: true });
    // Changes need at least operator; keys and organizations need admin; PuppetDB queries are reads by any method.
    for (const r of routes.filter((r) => r.method !== 'GET' && !(r.face === 'puppetdb' && r.url.includes('/query/'))))
      expect(RANK[r.role], `${r.method} ${r.url}`).toBeGreaterThanOrEqual(RANK.operator);
    for (const r of routes.filter((r) => /\/v1\/(api-keys|enrollment-keys|organizations)/.test(r.url))) expect(r.role, `${r.method} ${r.url}`).toBe('admin');
    expect(routes.filter((r) => r.face === 'puppetdb' && r.method === 'POST' && r.url.includes('/query/')).every((r) => r.role === 'viewer')).toBe(true);
  });

  it.skipIf(skip)("each route answers 401 without credentials and 403 to a key one role short, in its face's error shape", async () => {
    const asked = routes.filter((r) => r.resolvers.includes('api_key') && !r.url.endsWith('/connect'));
    let forbidden = 0;
    for (const r of asked) {
      const path = concrete(r.url);
      const none = await call(s.url, undefined, r.method, path, undefined, { 'content-type': 'application/json' });
      if (!r.anonymous) expect(none.status, `${r.method} ${path} without credentials: ${none.text}`).toBe(401);
      const below = BELOW[r.role];
      if (below === undefined || below === 'operator') continue;
      const short = await call(s.url, keys[below], r.method, path, undefined, { 'content-type': 'application/json' });
      expect(short.status, `${r.method} ${path} as ${below}: ${short.text}`).toBe(403);
      const shape =
        r.face === 'native' || r.face === 'beyondtrust'
          ? short.body?.error?.code
          : r.face === 'jumpcloud'
            ? short.body?.error
            : r.face === 'simplemdm'
              ? short.body?.errors?.[0]?.code
              : short.body?.error && 'pdb';
      expect(shape, `${r.method} ${path}: ${short.text}`).toBe(r.face === 'puppetdb' ? 'pdb' : 'FORBIDDEN');
      forbidden += 1;
    }
    expect(forbidden).toBeGreaterThan(40);
    // An admin route asked by an operator.
    for (const r of asked.filter((r) => r.role === 'admin')) {
      const short = await call(s.url, keys.operator, r.method, concrete(r.url), undefined, { 'content-type': 'application/json' });
      expect(short.status, `${r.method} ${r.url} as operator`).toBe(403);
    }
  });
});
