import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { WebSocket } from 'ws';
import { consoleAssets, consoleRoutes } from '../src/faces/console/index.js';
import { DATABASES } from './support/databases.js';
import { call, startTestServer, type TestServer } from './support/server.js';

const built = consoleAssets(new URL('../src/faces/console', import.meta.url).pathname) !== undefined;
if (!built) process.stdout.write('\nthe console is not built (npm run build): its page tests are skipped\n\n');

/** Where an attach with `query` (and `headers`) ends: the HTTP status refused, or the close code once open. */
function attach(base: string, id: string, query: string, headers: Record<string, string> = {}): Promise<{ refused?: number; close?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/sessions/${id}/attach${query}`, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ refused: res.statusCode });
      res.resume();
      ws.terminate();
    });
    ws.on('error', () => undefined);
    ws.on('close', (code) => resolve({ close: code }));
  });
}

describe.each(DATABASES)('the console is served, and sessions take attach tickets, on $name', ({ name, skip }) => {
  let s: TestServer;
  const keys = { viewer: '', operator: '' };
  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    for (const role of ['viewer', 'operator'] as const) keys[role] = (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: role, role })).body.secret;
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip || !built)('serves the page at / and every path under /console/, with its policy; assets are cached for good', async () => {
    for (const path of ['/', '/console', '/console/', '/console/jobs/abc', '/console/sessions/new?client.tag=web']) {
      const res = await call(s.url, undefined, 'GET', path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.text).toContain('<div id="root">');
    }
    const page = (await call(s.url, undefined, 'GET', '/')).text;
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(page)![1]!;
    const js = await call(s.url, undefined, 'GET', asset);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    // No CDN: every script and stylesheet the page names is this server's.
    expect([...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).every((u) => u!.startsWith('/console/'))).toBe(true);
  });

  it.skipIf(skip)('leaves the APIs alone: unknown API paths and missing assets are still JSON 404s', async () => {
    const missing = await call(s.url, undefined, 'GET', '/console/assets/no-such-file.js');
    expect(missing.status).toBe(404);
    const api = await call(s.url, s.adminKey, 'GET', '/v1/no-such-thing');
    expect(api.status).toBe(404);
    expect(api.body.error.code).toBe('NOT_FOUND');
    expect((await call(s.url, undefined, 'GET', '/nothing-here')).body.error.code).toBe('NOT_FOUND');
  });

  it.skipIf(skip)('an attach ticket: operators only, for a session of their own, refused once used or for another session', async () => {
    const none = await call(s.url, undefined, 'POST', '/v1/sessions/no-such-id/attach-ticket');
    expect(none.status).toBe(401);
    const viewer = await call(s.url, keys.viewer, 'POST', '/v1/sessions/no-such-id/attach-ticket');
    expect(viewer.status).toBe(403);
    const unknown = await call(s.url, keys.operator, 'POST', '/v1/sessions/0123456789abcdef01234567/attach-ticket');
    expect(unknown.status).toBe(404);
    // Without a key or a ticket, the attach is refused before the upgrade, as it always was; a made-up ticket too.
    expect(await attach(s.url, '0123456789abcdef01234567', '')).toEqual({ refused: 401 });
    expect(await attach(s.url, '0123456789abcdef01234567', '?ticket=mat_made_up')).toEqual({ refused: 401 });
    // A viewer's key with a ticket is still a viewer's.
    expect(await attach(s.url, '0123456789abcdef01234567', '?ticket=x', { authorization: `Bearer ${keys.viewer}` })).toEqual({ refused: 403 });
  });
});

describe('the console before it is built', () => {
  it('answers 503 saying how to build it, at / and under /console/', async () => {
    const app = Fastify();
    await consoleRoutes(app, null);
    for (const url of ['/', '/console', '/console/systems']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(503);
      expect(res.body).toContain('npm run build');
    }
    await app.close();
  });
});
