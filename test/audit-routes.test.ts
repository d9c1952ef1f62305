import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteAuth } from '../src/faces/face.js';
import { BUILDERS, send, type Fixture } from './support/audit-requests.js';
import { DATABASES } from './support/databases.js';
import { startAgentProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { enrollSystem } from './support/system-context.js';

/**
 * Generated from the route table: every mutating route of every face (and the
 * GETs that change something) is called once, validly, and must leave an
 * audit event with the right action, actor, target, request id and client
 * address. A mutating route with neither a request builder below nor a
 * reasoned exemption fails the first test, so a new route cannot ship
 * unaudited by accident.
 */

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Routes that change nothing, whatever their method. */
const EXEMPT: Record<string, string> = {
  // PuppetDB takes queries over POST (a long AST does not fit a URL); they only read.
  'puppetdb POST /pdb/query/v4': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/nodes': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/facts': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/factsets': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/fact-contents': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/reports': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/resources': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/catalogs': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/events': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/inventory': 'a PuppetDB query: a read',
};

/** GET routes that change something: they are held to the same rule. */
const MUTATING_GETS = new Set(['beyondtrust GET /api/client_script']);

/** JumpCloud and SimpleMDM answer every route with a trailing slash too: the twin shares its route's builder. */
const isTwin = (r: RouteAuth) => (r.face === 'jumpcloud' || r.face === 'simplemdm') && r.url.endsWith('/');
const keyOf = (r: RouteAuth) => `${r.face} ${r.method} ${isTwin(r) ? r.url.slice(0, -1) : r.url}`;
const audited = (r: RouteAuth) => (MUTATING.has(r.method) || MUTATING_GETS.has(keyOf(r))) && !(keyOf(r) in EXEMPT);

describe.each(DATABASES)('every mutating route writes its audit event, on $name', ({ name, skip }) => {
  let s: TestServer;
  let routes: RouteAuth[];
  let agent: AgentProcess | undefined;
  let f: Fixture;
  let n = 0;

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name, { sweep_interval_ms: 100 });
    routes = s.server.routeAuth();
    const api = (method: string, path: string, body?: unknown) => call(s.url, s.adminKey, method, path, body);
    const whoami = (await api('GET', '/v1/whoami')).body;
    const enrollmentKeys = (await api('GET', '/v1/enrollment-keys')).body.items as Array<{ id: string }>;
    agent = await startAgentProcess({ url: s.url, enrollmentKey: s.enrollmentKey } as ServerProcess);
    await waitFor(async () => (await api('GET', `/v1/systems/${agent!.systemId}`)).body?.connected === true, 'the agent to connect');
    f = {
      url: s.url,
      admin: s.adminKey,
      adminActor: `api_key:${whoami.key_id}`,
      enrollmentKey: s.enrollmentKey,
      enrollmentActor: `enrollment_key:${enrollmentKeys[0]!.id}`,
      live: agent.systemId,
      api,
      system: () => enrollSystem(s.url, s.enrollmentKey, `sys-${++n}`),
      unique: (prefix) => `${prefix}-${++n}-${randomBytes(3).toString('hex')}`,
    };
  }, 120_000);
  afterAll(async () => {
    await agent?.proc.stop();
    await s?.stop();
  });

  it.skipIf(skip)('every mutating route has a request builder or a reasoned exemption', () => {
    const missing = [...new Set(routes.filter(audited).map(keyOf))].filter((k) => !(k in BUILDERS));
    expect(missing, 'mutating routes without an audit test: add a builder (or, for a pure read, an exemption)').toEqual([]);
    // Nothing stale: every builder and exemption names a route that exists.
    const known = new Set(routes.map(keyOf));
    expect(Object.keys(BUILDERS).filter((k) => !known.has(k))).toEqual([]);
    expect(Object.keys(EXEMPT).filter((k) => !known.has(k))).toEqual([]);
    expect(routes.filter(audited).length).toBeGreaterThan(100);
  });

  it.skipIf(skip)(
    'each call leaves an event with its action, actor, target, request id and client address',
    async () => {
      const failures: string[] = [];
      for (const route of routes.filter(audited)) {
        const key = keyOf(route);
        const builder = BUILDERS[key];
        if (!builder) continue;
        const built = await builder(f, isTwin(route));
        const path = route.url.replace(/:([A-Za-z]+)/g, (_, p: string) => encodeURIComponent(built.params?.[p] ?? `missing-${p}`));
        const requestId = `audit-test-${++n}`;
        const res = await send(f, route.method, path, built, requestId);
        if (res.status >= 400) {
          failures.push(`${route.method} ${route.url}: ${res.status} ${res.text.slice(0, 200)}`);
          continue;
        }
        const events = (await f.api('GET', `/v1/audit?request_id=${requestId}`)).body.items as Array<Record<string, any>>;
        const want = built.expect;
        const targetId = typeof want.targetId === 'function' ? want.targetId(res.body) : want.targetId;
        const found = events.find(
          (e) =>
            e.action === want.action &&
            e.target_type === want.targetType &&
            (targetId === undefined || e.target_id === targetId) &&
            e.actor === (want.actor ?? f.adminActor),
        );
        if (!found) {
          failures.push(`${route.method} ${route.url}: no ${want.action} event on ${want.targetType}:${targetId ?? '*'}; got ${JSON.stringify(events)}`);
          continue;
        }
        for (const e of events) {
          if (e.request_id !== requestId || e.source_ip !== '127.0.0.1') failures.push(`${route.method} ${route.url}: ${JSON.stringify(e)} lacks its request`);
        }
      }
      expect(failures).toEqual([]);
    },
    300_000,
  );
});
