import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { call, startTestServer, type TestServer } from './support/server.js';

const PAYLOADS = fileURLToPath(new URL('./fixtures/puppetdb-payloads', import.meta.url));
const load = (name: string) => readFileSync(join(PAYLOADS, name), 'utf8');
const FACTS = load('facts-v5-minimal.json');
const sha1 = (s: string | Buffer) => createHash('sha1').update(s).digest('hex');
const LIST = 'Command must be one of: configure expiration, deactivate node, replace catalog, replace catalog inputs, replace facts, store report.';

describe.each(DATABASES)('POST /pdb/cmd/v1 on $name', ({ name, skip }) => {
  let s: TestServer;
  beforeAll(async () => {
    if (!skip) s = await startTestServer(name, { ingest_max_command_bytes: 64 * 1024 });
  });
  afterAll(async () => {
    if (!skip) await s.stop();
  });

  const post = async (query: string, body: string | Buffer, headers: Record<string, string> = {}, key: string | null = s.adminKey) => {
    const res = await fetch(`${s.url}/pdb/cmd/v1${query}`, {
      method: 'POST',
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json', ...headers },
      body,
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json, type: res.headers.get('content-type') };
  };
  const counts = async () => (await call(s.url, s.adminKey, 'GET', '/v1/ingest/counts')).body;
  const total = async () => Object.values((await counts()) as Record<string, number>).reduce((a, b) => a + b, 0);
  const Q = '?command=replace_facts&version=5&certname=wire1.example.com';

  it.skipIf(skip)('queues the query-parameter form and answers with a uuid that names the command', async () => {
    const r = await post(Q, FACTS);
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json;charset=utf-8');
    expect(Object.keys(r.json)).toEqual(['uuid']);
    const cmd = await call(s.url, s.adminKey, 'GET', `/v1/ingest/commands/${r.json.uuid}`);
    expect(cmd.status).toBe(200);
    expect(cmd.body).toMatchObject({ id: r.json.uuid, command: 'replace facts', version: 5, certname: 'wire1.example.com' });
  });

  it.skipIf(skip)('takes the space form, producer-timestamp, gzip and no Content-Type', async () => {
    expect((await post('?command=replace%20facts&version=5&certname=wire1.example.com&producer-timestamp=2026-11-23T10:00:00Z', FACTS)).status).toBe(200);
    const gz = gzipSync(FACTS);
    expect((await post(Q, gz, { 'content-encoding': 'gzip', 'x-uncompressed-length': String(Buffer.byteLength(FACTS)) })).status).toBe(200);
    const res = await fetch(`${s.url}/pdb/cmd/v1${Q}`, { method: 'POST', headers: { authorization: `Bearer ${s.adminKey}` }, body: Buffer.from(FACTS) });
    expect(res.status).toBe(200);
  });

  it.skipIf(skip)('takes the deprecated all-in-one body, certname from the payload', async () => {
    const r = await post('', JSON.stringify({ command: 'replace facts', version: 5, payload: JSON.parse(FACTS) }));
    expect(r.status).toBe(200);
    const cmd = await call(s.url, s.adminKey, 'GET', `/v1/ingest/commands/${r.json.uuid}`);
    expect(cmd.body.certname).toBe('wire1.example.com');
  });

  it.skipIf(skip)('verifies the checksum against the body or the envelope Puppet signs', async () => {
    expect((await post(`${Q}&checksum=${sha1(FACTS)}`, FACTS)).status).toBe(200);
    const envelope = `{"command":"replace facts","version":5,"certname":"wire1.example.com","payload":${FACTS}}`;
    expect((await post(`${Q}&checksum=${sha1(envelope)}`, FACTS)).status).toBe(200);
    const before = await total();
    const bad = await post(`${Q}&checksum=${sha1('other')}`, FACTS);
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/checksum/);
    expect(await total()).toBe(before);
  });

  const cases: Array<[string, string, string | Buffer, Record<string, string>, number, string | RegExp]> = [
    ['another query parameter', `${Q}&foo=bar`, FACTS, {}, 400, 'Command has invalid parameters: foo.'],
    [
      'payload as a string (old form)',
      '',
      JSON.stringify({ command: 'replace facts', version: 5, payload: FACTS }),
      {},
      400,
      'Command "replace facts" for certname nil is invalid. Command was submitted without query parameters (old format). The payload value must be a JSON map.',
    ],
    [
      'old form missing a key',
      '',
      JSON.stringify({ command: 'replace facts', version: 5 }),
      {},
      400,
      /The request body must be a JSON map with required keys: command, version, payload\.$/,
    ],
    ['old form unparsable', '', '{nope', {}, 400, /The request body must be a JSON map with required keys: command, version, payload\.$/],
    [
      'old form with an underscore name',
      '',
      JSON.stringify({ command: 'replace_facts', version: 5, payload: JSON.parse(FACTS) }),
      {},
      400,
      new RegExp(`${LIST.replace(/\./g, '\\.')}$`),
    ],
    [
      'no certname',
      '?command=replace_facts&version=5',
      FACTS,
      {},
      400,
      'Command "replace facts" for certname nil is invalid. Command is missing required parameters: certname.',
    ],
    [
      'an empty certname',
      '?command=replace_facts&version=5&certname=',
      FACTS,
      {},
      400,
      'Command "replace facts" for certname "" is invalid. Certname must be a non-empty string.',
    ],
    ['an unknown command', '?command=frobnicate&version=5&certname=C', FACTS, {}, 400, `Command "frobnicate" for certname "C" is invalid. ${LIST}`],
    [
      'a retired version',
      '?command=replace_facts&version=3&certname=wire1.example.com',
      FACTS,
      {},
      400,
      'Version 3 of command "replace facts" is retired. The minimum supported version is 4.',
    ],
    [
      'a retired catalog version',
      '?command=replace_catalog&version=5&certname=wire1.example.com',
      FACTS,
      {},
      400,
      'Version 5 of command "replace catalog" is retired. The minimum supported version is 6.',
    ],
    ['version=abc', '?command=replace_facts&version=abc&certname=wire1.example.com', FACTS, {}, 400, 'Version must be a valid integer.'],
    ['no version', '?command=replace_facts&certname=wire1.example.com', FACTS, {}, 400, 'Version must be a valid integer.'],
    [
      'version=99',
      '?command=replace_facts&version=99&certname=wire1.example.com',
      FACTS,
      {},
      400,
      'Version 99 of command "replace facts" is not supported. The maximum supported version is 5.',
    ],
    ['a body that is not JSON', Q, '{"certname": ', {}, 400, /is invalid\. The payload is not valid JSON/],
    [
      'a certname mismatch',
      '?command=replace_facts&version=5&certname=A',
      FACTS,
      {},
      400,
      'certname parameter "A" does not match payload certname "wire1.example.com"',
    ],
    ['Content-Encoding: br', Q, FACTS, { 'content-encoding': 'br' }, 415, 'content encoding br not supported'],
    ['Content-Encoding: deflate', Q, FACTS, { 'content-encoding': 'deflate' }, 415, 'content encoding deflate not supported'],
    ['Content-Type: text/plain', Q, FACTS, { 'content-type': 'text/plain' }, 415, 'content type text/plain not supported'],
    ['a form body', Q, 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'content type application/x-www-form-urlencoded not supported'],
    ['Accept: text/html', Q, FACTS, { accept: 'text/html' }, 406, 'must accept application/json'],
    [
      'a body over the limit',
      Q,
      `{"certname":"wire1.example.com","pad":"${'x'.repeat(70 * 1024)}"}`,
      {},
      413,
      'Command rejected due to size exceeding max-command-size',
    ],
    [
      'X-Uncompressed-Length over the limit',
      Q,
      gzipSync(FACTS),
      { 'content-encoding': 'gzip', 'x-uncompressed-length': String(10 * 1024 * 1024) },
      413,
      'Command rejected due to size exceeding max-command-size',
    ],
    [
      'gzip that inflates past the limit',
      Q,
      gzipSync(Buffer.alloc(1024 * 1024, 32)),
      { 'content-encoding': 'gzip' },
      413,
      'Command rejected due to size exceeding max-command-size',
    ],
    ['corrupt gzip', Q, Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' }, 400, /not valid gzip/],
    ['secondsToWaitForCompletion=abc', `${Q}&secondsToWaitForCompletion=abc`, FACTS, {}, 400, /secondsToWaitForCompletion/],
  ];

  it.skipIf(skip).each(cases)('refuses %s and queues nothing', async (_what, query, body, headers, status, message) => {
    const before = await total();
    const r = await post(query, body, headers);
    expect(r.status).toBe(status);
    if (status === 400) {
      expect(r.type).toBe('application/json;charset=utf-8');
      if (typeof message === 'string') expect(r.json.error).toBe(message);
      else expect(r.json.error).toMatch(message);
    } else {
      expect(r.type).toMatch(/^text\/plain/);
      expect(r.text).toBe(message);
    }
    expect(await total()).toBe(before);
  });

  it.skipIf(skip)('accepts a payload that breaks its wire format, then keeps it in the dead letter office', async () => {
    const broken = JSON.stringify({ ...JSON.parse(FACTS), extra: true });
    const r = await post(`${Q}&secondsToWaitForCompletion=10`, broken);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ uuid: expect.any(String), processed: true, timed_out: false, error: expect.stringMatching(/disallowed keys: extra/) });
    const dlo = await call(s.url, s.adminKey, 'GET', '/v1/ingest/discarded');
    expect(dlo.body.items.map((d: { id: string }) => d.id)).toContain(r.json.uuid);
  });

  it.skipIf(skip)('blocks until processed when asked', async () => {
    const r = await post(`${Q}&secondsToWaitForCompletion=10`, FACTS);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ uuid: expect.any(String), processed: true, timed_out: false });
    // A short batch waits 50 ms to fill before it is committed, so 5 ms always times out.
    const late = await post(`${Q}&secondsToWaitForCompletion=0.005`, FACTS);
    expect(late.status).toBe(503);
    expect(late.json).toEqual({ uuid: expect.any(String), processed: false, timed_out: true });
    const zero = await post(`${Q}&secondsToWaitForCompletion=0`, FACTS);
    expect(Object.keys(zero.json)).toEqual(['uuid']);
  });

  it.skipIf(skip)('answers 401 without a key and 403 for a viewer', async () => {
    const r = await post(Q, FACTS, {}, null);
    expect(r.status).toBe(401);
    const viewer = await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'v', role: 'viewer' });
    const v = await post(Q, FACTS, {}, viewer.body.secret);
    expect(v.status).toBe(403);
  });
});
