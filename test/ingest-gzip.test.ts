import { request, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The bytes as they came off the wire: global fetch would gunzip them unasked. */
  bytes: Buffer;
}

function rawGet(base: string, path: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method: 'GET', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The body text, gunzipped when the server said it compressed it. */
const text = (r: RawResponse) => (r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.bytes) : r.bytes).toString('utf8');

/** A fact set big enough that the facts answer is several KiB. */
const factsFor = (certname: string) => ({
  certname,
  environment: 'production',
  producer_timestamp: '2026-11-23T10:00:00.000Z',
  producer: 'puppet.example.com',
  values: {
    kernel: 'Linux',
    os: { family: 'Debian', release: { major: '12', full: '12.7' } },
    ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`custom_fact_${i}`, `value ${i} of ${certname}`])),
  },
});

describe.each(DATABASES)('gzipped /pdb answers on $name', ({ name, skip }) => {
  let s: TestServer;
  const auth = () => ({ authorization: `Bearer ${s.adminKey}` });

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    for (const certname of ['gz1.example.com', 'gz2.example.com', 'gz3.example.com']) {
      // Blocking mode: the facts are stored when this answers.
      const res = await fetch(`${s.url}/pdb/cmd/v1?command=replace_facts&version=5&certname=${certname}&secondsToWaitForCompletion=10`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify(factsFor(certname)),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ processed: true });
    }
  });
  afterAll(async () => {
    if (!skip) await s.stop();
  });

  it.skipIf(skip)('gzips a large query answer for a client that accepts gzip, the same JSON as identity', async () => {
    const plain = await rawGet(s.url, '/pdb/query/v4/facts', auth());
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toMatch(/accept-encoding/i);
    expect(Number(plain.headers['content-length'])).toBe(plain.bytes.length);
    const expected = JSON.parse(plain.bytes.toString('utf8'));
    expect(expected).toHaveLength(3 * 22);
    expect(plain.bytes.length).toBeGreaterThan(1024);

    for (const ae of ['gzip', 'deflate, gzip', 'br, *;q=0.1']) {
      const gz = await rawGet(s.url, '/pdb/query/v4/facts', { ...auth(), 'accept-encoding': ae });
      expect(gz.status).toBe(200);
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gz.headers.vary).toMatch(/accept-encoding/i);
      expect(gz.headers['content-type']).toBe('application/json;charset=utf-8');
      expect(Number(gz.headers['content-length'])).toBe(gz.bytes.length);
      expect(gz.bytes.length).toBeLessThan(plain.bytes.length);
      expect(JSON.parse(gunzipSync(gz.bytes).toString('utf8'))).toEqual(expected);
    }
  });

  it.skipIf(skip)('sends identity when gzip is refused, and for small answers', async () => {
    const refused = await rawGet(s.url, '/pdb/query/v4/facts', { ...auth(), 'accept-encoding': 'deflate, gzip;q=0' });
    expect(refused.status).toBe(200);
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(refused.bytes.toString('utf8'))).toHaveLength(3 * 22);
    const version = await rawGet(s.url, '/pdb/meta/v1/version', { ...auth(), 'accept-encoding': 'gzip' });
    expect(version.status).toBe(200);
    expect(version.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(version.bytes.toString('utf8'))).toEqual({ version: expect.any(String) });
  });

  it.skipIf(skip)('error answers read the same compressed: a long 400 and 404 are gzipped, short ones are not', async () => {
    const field = 'y'.repeat(1200);
    const bad = await rawGet(s.url, `/pdb/query/v4/facts?query=${encodeURIComponent(JSON.stringify(['=', field, 1]))}`, {
      ...auth(),
      'accept-encoding': 'gzip',
    });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toBe('text/plain;charset=utf-8');
    expect(bad.headers['content-encoding']).toBe('gzip');
    expect(Number(bad.headers['content-length'])).toBe(bad.bytes.length);
    expect(text(bad)).toMatch(new RegExp(`'${field}' is not a queryable object for facts`));

    const path = `/pdb/${'z'.repeat(1200)}`;
    const missing = await rawGet(s.url, path, { ...auth(), 'accept-encoding': 'gzip' });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(text(missing))).toEqual({ error: `No such endpoint: GET ${path}` });

    const unparsable = await rawGet(s.url, '/pdb/query/v4/facts?query=%5B', { ...auth(), 'accept-encoding': 'gzip' });
    expect(unparsable.status).toBe(400);
    expect(unparsable.headers['content-encoding']).toBeUndefined();
    expect(text(unparsable).length).toBeGreaterThan(0);
    const unauthenticated = await rawGet(s.url, '/pdb/query/v4/facts', { 'accept-encoding': 'gzip' });
    expect(unauthenticated.status).toBe(401);
    expect(JSON.parse(text(unauthenticated)).error).toMatch(/API key/);
  });

  it.skipIf(skip)('leaves the other faces uncompressed', async () => {
    const native = await rawGet(s.url, '/v1/systems', { ...auth(), 'accept-encoding': 'gzip' });
    expect(native.status).toBe(200);
    expect(native.headers['content-encoding']).toBeUndefined();
  });
});
