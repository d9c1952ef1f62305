import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../src/config/server.js';
import { call, startTestServer, type TestServer } from './support/server.js';

const TOKEN = 'scrape-token-0123456789abcdef';

/**
 * What answers without an API key: /metrics (unless `metrics_token` is set)
 * and the OpenAPI document and its UI at /docs, whose page must load with its
 * scripts and styles (the pinned @fastify/static serves them).
 */
describe('metrics and API docs without credentials', () => {
  let open: TestServer;
  let guarded: TestServer;
  beforeAll(async () => {
    open = await startTestServer('sqlite');
    guarded = await startTestServer('sqlite', { metrics_token: TOKEN });
  });
  afterAll(async () => {
    await open?.stop();
    await guarded?.stop();
  });

  it('serves /metrics to anyone by default', async () => {
    const res = await call(open.url, undefined, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^# HELP muster_http_requests_total/m);
  });

  it('with metrics_token, /metrics answers 401 without it or with another, and the metrics with it', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}`]) {
      const refused = await call(guarded.url, undefined, 'GET', '/metrics', undefined, authorization ? { authorization } : {});
      expect(refused.status, authorization).toBe(401);
      expect(refused.body.error).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('metrics token') });
      expect(refused.text).not.toContain('muster_http_requests_total');
    }
    // An API key is not the metrics token either.
    expect((await call(guarded.url, guarded.adminKey, 'GET', '/metrics')).status).toBe(401);
    const allowed = await call(guarded.url, undefined, 'GET', '/metrics', undefined, { authorization: `Bearer ${TOKEN}` });
    expect(allowed.status).toBe(200);
    expect(allowed.text).toMatch(/^muster_agents_connected \d+/m);
  });

  it('metrics_token comes from MUSTER_METRICS_TOKEN too, and must not be trivially short', () => {
    expect(loadServerConfig({}, { MUSTER_METRICS_TOKEN: TOKEN }).metrics_token).toBe(TOKEN);
    expect(loadServerConfig({}, {}).metrics_token).toBeUndefined();
    expect(() => loadServerConfig({ metrics_token: 'short' }, {})).toThrow(/metrics_token/);
  });

  it('documents what every native route answers: a success schema (or 204) and the error body', async () => {
    const doc = await call(open.url, undefined, 'GET', '/docs/json');
    const operations = Object.entries(
      doc.body.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>,
    )
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, responses: op.responses })));
    expect(operations.length).toBeGreaterThan(60);
    const undocumented = operations
      .filter(({ responses }) => {
        const ok = Object.entries(responses).filter(([code]) => /^2\d\d$/.test(code));
        const described = (r: { content?: Record<string, { schema?: unknown }> }) => Object.values(r.content ?? {}).some((media) => media.schema !== undefined);
        return ok.length === 0 || ok.some(([code, r]) => code !== '204' && !described(r)) || !responses['4XX'] || !described(responses['4XX']);
      })
      .map((o) => o.route);
    expect(undocumented).toEqual([]);
    const error = doc.body.paths['/v1/jobs'].post.responses['4XX'].content['application/json'].schema;
    expect(Object.keys(error.properties.error.properties)).toEqual(['code', 'message', 'request_id']);
  });

  it.each([
    ['by default', () => open],
    ['with metrics_token', () => guarded],
  ])('serves the OpenAPI document and its UI without a key %s', async (_what, server) => {
    const base = server().url;
    const doc = await call(base, undefined, 'GET', '/docs/json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/jobs', '/v1/whoami', '/v1/groups/{id}']));

    const page = await fetch(`${base}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    // Every script, stylesheet and icon the page names loads, resolved as a browser resolves them.
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1]!, page.url).toString());
    expect(assets.filter((a) => a.endsWith('.js')).length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      const res = await fetch(asset);
      expect(res.status, asset).toBe(200);
      expect((await res.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
    }
  });
});
