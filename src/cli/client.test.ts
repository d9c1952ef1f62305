import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, CliError, errorMessage, NO_KEY_MESSAGE } from './client.js';
import { apiError, FakeApi } from './testing/fake-api.js';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.stop();
  api = undefined;
});

async function fake(routes: ConstructorParameters<typeof FakeApi>[0]): Promise<FakeApi> {
  api = new FakeApi(routes);
  await api.start();
  return api;
}

async function failure(p: Promise<unknown>): Promise<CliError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CliError);
  return e as CliError;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('ApiClient against a fake server', () => {
  it('sends the key as a Bearer token and JSON bodies, and parses JSON answers', async () => {
    const server = await fake({ 'POST /v1/jobs': (req) => ({ status: 201, json: { got: req.body } }) });
    const client = new ApiClient(`${server.url}/`, 'mk_test');
    expect(await client.request('POST', '/v1/jobs', { content: 'true' })).toEqual({ got: { content: 'true' } });
    const [seen] = server.seen;
    expect(seen!.headers.authorization).toBe('Bearer mk_test');
    expect(seen!.headers['content-type']).toBe('application/json');
    expect(seen!.headers['user-agent']).toMatch(/^muster-cli\//);
  });

  it('returns text for text/plain and undefined for 204', async () => {
    const server = await fake({
      'GET /v1/runs/r1/output': () => ({ text: 'out\n' }),
      'DELETE /v1/api-keys/k1': () => ({ status: 204 }),
    });
    const client = new ApiClient(server.url, 'mk_test');
    expect(await client.request('GET', '/v1/runs/r1/output?stream=stdout')).toBe('out\n');
    expect(await client.request('DELETE', '/v1/api-keys/k1')).toBeUndefined();
  });

  it('turns an error body into its message, and a 500 into the message with the request id', async () => {
    const server = await fake({
      'POST /v1/jobs': () => apiError(400, 'INVALID_ARGUMENT', 'content: must be a string'),
      'GET /v1/jobs/x': () => apiError(404, 'NOT_FOUND', 'job x not found'),
      'GET /v1/boom': () => apiError(500, 'INTERNAL', 'internal error', 'req-77'),
      'GET /v1/proxy': () => ({ status: 502, text: 'Bad Gateway', contentType: 'text/html' }),
    });
    const client = new ApiClient(server.url, 'mk_test');
    const bad = await failure(client.request('POST', '/v1/jobs', {}));
    expect([bad.message, bad.exitCode]).toEqual(['content: must be a string', 1]);
    expect((await failure(client.request('GET', '/v1/jobs/x'))).message).toBe('job x not found');
    expect((await failure(client.request('GET', '/v1/boom'))).message).toBe('internal error (request id req-77)');
    expect((await failure(client.request('GET', '/v1/proxy'))).message).toBe('the server answered 502: Bad Gateway');
  });

  it('explains a refused key (401)', async () => {
    const server = await fake({ 'GET /v1/systems': () => apiError(401, 'UNAUTHENTICATED', 'the API key is not valid') });
    const e = await failure(new ApiClient(server.url, 'mk_wrong').request('GET', '/v1/systems'));
    expect(e.message).toBe('the API key is not valid (check the API key: run `muster login` or set MUSTER_API_KEY)');
    expect(e.exitCode).toBe(1);
  });

  it('names the server it cannot reach', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const e = await failure(new ApiClient(url, 'mk_test').request('GET', '/v1/whoami'));
    expect(e.message).toMatch(new RegExp(`^cannot reach the muster server at ${url}: .*ECONNREFUSED`));
    expect(e.exitCode).toBe(1);
  });

  it('refuses to send a request without a key (usage error)', async () => {
    const e = await failure(new ApiClient('http://127.0.0.1:1', undefined).request('GET', '/v1/systems'));
    expect([e.message, e.exitCode]).toEqual([NO_KEY_MESSAGE, 2]);
    expect(NO_KEY_MESSAGE).toBe('no API key: run `muster login` or set MUSTER_API_KEY');
  });

  it('follows next_cursor through every page', async () => {
    const server = await fake({
      'GET /v1/systems': (req) =>
        req.path.includes('cursor=c2')
          ? { json: { items: [3], next_cursor: null } }
          : req.path.includes('cursor=c1')
            ? { json: { items: [2], next_cursor: 'c2' } }
            : { json: { items: [1], next_cursor: 'c1' } },
    });
    expect(await new ApiClient(server.url, 'mk_test').list('/v1/systems?select=tag%3Aweb')).toEqual([1, 2, 3]);
    expect(server.seen.map((s) => s.path)).toEqual([
      '/v1/systems?select=tag%3Aweb',
      '/v1/systems?select=tag%3Aweb&cursor=c1',
      '/v1/systems?select=tag%3Aweb&cursor=c2',
    ]);
  });
});

describe('errorMessage', () => {
  it('handles bodies without the native shape', () => {
    expect(errorMessage(401, '')).toMatch(/refused the API key.*muster login/);
    expect(errorMessage(503, '')).toBe('the server answered 503');
    expect(errorMessage(400, JSON.stringify({ error: { message: 'x: bad', request_id: 'r' } }))).toBe('x: bad');
    expect(errorMessage(500, JSON.stringify({ error: { message: 'internal error (request id r9)', request_id: 'r9' } }))).toBe(
      'internal error (request id r9)',
    );
  });
});
