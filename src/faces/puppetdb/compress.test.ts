import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptsGzip, compressResponses, MIN_GZIP_BYTES } from './compress.js';

describe('acceptsGzip', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['GZIP', true],
    ['x-gzip', true],
    ['gzip, deflate, br', true],
    ['deflate, gzip;q=0', false],
    ['deflate, gzip ; Q=0.000', false],
    ['gzip;q=0.5', true],
    ['*', true],
    ['*;q=0', false],
    ['br, *;q=0.1', true],
    ['gzip;q=0, *', false],
    ['identity', false],
    ['identity;q=1, gzip;q=0.001', true],
    ['gzip;q=abc', false],
    ['gzip;q=2', false],
    ['gzipped', false],
  ])('%j → %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

describe('compressResponses', () => {
  const big = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ certname: `host${i}.example.com`, name: 'kernel', value: 'Linux' })));
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    await app.register(
      async (scope) => {
        compressResponses(scope);
        scope.get('/big', async (_req, reply) => reply.header('content-type', 'application/json').send(big));
        scope.get('/buffer', async (_req, reply) => reply.header('content-type', 'application/octet-stream').send(Buffer.from(big)));
        scope.get('/small', async (_req, reply) => reply.send('{"version":"7.12.1"}'));
        scope.get('/encoded', async (_req, reply) => reply.header('content-encoding', 'gzip').send(gzipSync(big)));
        scope.get('/empty', async (_req, reply) => reply.status(204).send());
        scope.get('/stream', async (_req, reply) => reply.send(Readable.from([big.slice(0, 500), big.slice(500)])));
        scope.get('/vary', async (_req, reply) => reply.header('vary', 'Origin').send(big));
      },
      { prefix: '/pdb' },
    );
    app.get('/outside', async (_req, reply) => reply.send(big));
    await app.ready();
  });
  afterAll(() => app.close());

  const get = (url: string, acceptEncoding?: string, method: 'GET' | 'HEAD' = 'GET') =>
    app.inject({ method, url, headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding } });

  it('gzips string and Buffer bodies of at least 1 KiB, with the compressed length and Vary', async () => {
    expect(Buffer.byteLength(big)).toBeGreaterThan(MIN_GZIP_BYTES);
    for (const url of ['/pdb/big', '/pdb/buffer']) {
      const res = await get(url, 'gzip');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(res.headers.vary).toBe('Accept-Encoding');
      expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
      expect(res.rawPayload.length).toBeLessThan(Buffer.byteLength(big));
      expect(gunzipSync(res.rawPayload).toString()).toBe(big);
    }
  });

  it('sends identity to clients that do not take gzip, still saying the body varies', async () => {
    for (const ae of [undefined, 'identity', 'gzip;q=0']) {
      const res = await get('/pdb/big', ae);
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.headers.vary).toBe('Accept-Encoding');
      expect(res.body).toBe(big);
    }
  });

  it('leaves small, bodiless and already encoded answers alone', async () => {
    const small = await get('/pdb/small', 'gzip');
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.headers.vary).toBeUndefined();
    expect(small.body).toBe('{"version":"7.12.1"}');
    const empty = await get('/pdb/empty', 'gzip');
    expect(empty.statusCode).toBe(204);
    expect(empty.headers['content-encoding']).toBeUndefined();
    expect(empty.rawPayload.length).toBe(0);
    const encoded = await get('/pdb/encoded', 'gzip');
    expect(encoded.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(encoded.rawPayload).toString()).toBe(big);
  });

  it('answers HEAD with the headers GET would send and no body', async () => {
    const get_ = await get('/pdb/big', 'gzip');
    const head = await get('/pdb/big', 'gzip', 'HEAD');
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-encoding']).toBe('gzip');
    expect(head.headers['content-length']).toBe(get_.headers['content-length']);
    expect(head.rawPayload.length).toBe(0);
  });

  it('gzips a stream of unknown length, chunked', async () => {
    const res = await get('/pdb/stream', 'gzip');
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['content-length']).toBeUndefined();
    expect(gunzipSync(res.rawPayload).toString()).toBe(big);
  });

  it('adds to an existing Vary, and touches nothing outside its plugin', async () => {
    expect((await get('/pdb/vary', 'gzip')).headers.vary).toBe('Origin, Accept-Encoding');
    const outside = await get('/outside', 'gzip');
    expect(outside.headers['content-encoding']).toBeUndefined();
    expect(outside.body).toBe(big);
  });
});
