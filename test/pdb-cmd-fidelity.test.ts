import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_DEPTH } from '../src/core/ingest/depth.js';
import { DATABASES } from './support/databases.js';
import { call, startTestServer, type TestServer } from './support/server.js';

/**
 * What PuppetDB clients send to /pdb/cmd/v1 beyond the common case: PUT
 * (PuppetDB routes it like POST), the deprecated whole-body form with members
 * of the wrong JSON type, payloads nested deep enough to break whatever walks
 * them, and an empty body under a JSON content type.
 */

const PAYLOADS = fileURLToPath(new URL('./fixtures/puppetdb-payloads', import.meta.url));
const FACTS = readFileSync(join(PAYLOADS, 'facts-v5-minimal.json'), 'utf8');
const CERTNAME = 'wire1.example.com';
const Q = `?command=replace_facts&version=5&certname=${CERTNAME}`;
const sha1 = (s: string | Buffer) => createHash('sha1').update(s).digest('hex');
const OLD = 'Command was submitted without query parameters (old format).';
const LIST = 'Command must be one of: configure expiration, deactivate node, replace catalog, replace catalog inputs, replace facts, store report.';
const TOO_DEEP = `The payload nests arrays and maps more than ${MAX_PAYLOAD_DEPTH} levels deep, the most accepted.`;

/** Facts v5 for `certname` whose `values` hold one fact nested `levels` maps deep (the payload is one level more). */
function nestedFacts(certname: string, levels: number): string {
  const fact = `${'{"n":'.repeat(levels - 1)}"leaf"${'}'.repeat(levels - 1)}`;
  return `{"certname":${JSON.stringify(certname)},"environment":"production","producer_timestamp":"2026-11-23T10:00:00.000Z","producer":"p","values":{"deep":${fact}}}`;
}

describe.each(DATABASES)('PuppetDB command fidelity on $name', ({ name, skip }) => {
  let s: TestServer;
  let viewerKey: string;
  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    viewerKey = (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'viewer', role: 'viewer' })).body.secret;
  });
  afterAll(async () => {
    if (!skip) await s.stop();
  });

  /** A request as PuppetDB's documented curl calls make it: `-H 'Content-Type:application/json' -H 'Accept:application/json'`. */
  const send = async (method: string, query: string, body: string | Buffer, headers: Record<string, string> = {}, key: string | null = s.adminKey) => {
    const res = await fetch(`${s.url}/pdb/cmd/v1${query}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json', accept: 'application/json', ...headers },
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
  const total = async () =>
    Object.values((await call(s.url, s.adminKey, 'GET', '/v1/ingest/counts')).body as Record<string, number>).reduce((a, b) => a + b, 0);
  const command = async (uuid: string) => (await call(s.url, s.adminKey, 'GET', `/v1/ingest/commands/${uuid}`)).body;

  describe('PUT works as POST does', () => {
    it.skipIf(skip)('queues the query-parameter form, and blocks until processed when asked', async () => {
      const r = await send('PUT', Q, FACTS);
      expect(r.status).toBe(200);
      expect(r.type).toBe('application/json;charset=utf-8');
      expect(Object.keys(r.json)).toEqual(['uuid']);
      expect(await command(r.json.uuid)).toMatchObject({ command: 'replace facts', version: 5, certname: CERTNAME });
      const blocking = await send('PUT', `${Q}&producer-timestamp=2026-11-23T10:00:00Z&secondsToWaitForCompletion=10`, FACTS);
      expect(blocking.json).toEqual({ uuid: expect.any(String), processed: true, timed_out: false });
    });

    it.skipIf(skip)('takes the deprecated whole-body form, gzip and the checksum Puppet signs', async () => {
      const old = await send('PUT', '', JSON.stringify({ command: 'replace facts', version: 5, payload: JSON.parse(FACTS) }));
      expect(old.status).toBe(200);
      expect((await command(old.json.uuid)).certname).toBe(CERTNAME);
      const gz = await send('PUT', Q, gzipSync(FACTS), { 'content-encoding': 'gzip', 'x-uncompressed-length': String(Buffer.byteLength(FACTS)) });
      expect(gz.status).toBe(200);
      const envelope = `{"command":"replace facts","version":5,"certname":"${CERTNAME}","payload":${FACTS}}`;
      expect((await send('PUT', `${Q}&checksum=${sha1(envelope)}`, FACTS)).status).toBe(200);
      expect((await send('PUT', `${Q}&checksum=${sha1(FACTS)}`, FACTS)).status).toBe(200);
    });

    it.skipIf(skip)('refuses what POST refuses, with the same answers, and queues nothing', async () => {
      const before = await total();
      for (const [query, body, headers, status] of [
        [`${Q}&checksum=${sha1('other')}`, FACTS, {}, 400],
        [`${Q}&foo=bar`, FACTS, {}, 400],
        [Q, FACTS, { 'content-encoding': 'br' }, 415],
        [Q, FACTS, { accept: 'text/html' }, 406],
      ] as const) {
        const put = await send('PUT', query, body, headers);
        const post = await send('POST', query, body, headers);
        expect(put.status).toBe(status);
        expect([put.type, put.text]).toEqual([post.type, post.text]);
      }
      expect(await total()).toBe(before);
    });

    it.skipIf(skip)('answers 401 without a key and 403 for a viewer', async () => {
      expect((await send('PUT', Q, FACTS, {}, null)).status).toBe(401);
      const viewer = await send('PUT', Q, FACTS, {}, viewerKey);
      expect(viewer.status).toBe(403);
      expect(viewer.json.error).toEqual(expect.any(String));
    });
  });

  describe('the deprecated whole-body form keeps its JSON types', () => {
    const payload = JSON.parse(FACTS);
    const cases: Array<[string, unknown, string]> = [
      ['version as a string', { command: 'replace facts', version: '5', payload }, 'Version must be a valid integer.'],
      ['version as a fraction', { command: 'replace facts', version: 5.5, payload }, 'Version must be a valid integer.'],
      ['version null', { command: 'replace facts', version: null, payload }, 'Version must be a valid integer.'],
      ['version as an array', { command: 'replace facts', version: [5], payload }, 'Version must be a valid integer.'],
      ['command as a number', { command: 5, version: 5, payload }, `Command 5 for certname nil is invalid. ${OLD} ${LIST}`],
      ['command null', { command: null, version: 5, payload }, `Command nil for certname nil is invalid. ${OLD} ${LIST}`],
      [
        'payload null',
        { command: 'replace facts', version: 5, payload: null },
        `Command "replace facts" for certname nil is invalid. ${OLD} The payload value must be a JSON map.`,
      ],
      [
        'payload as an array',
        { command: 'replace facts', version: 5, payload: [payload] },
        `Command "replace facts" for certname nil is invalid. ${OLD} The payload value must be a JSON map.`,
      ],
      [
        'certname as a number',
        { command: 'replace facts', version: 5, certname: 5, payload },
        `Command "replace facts" for certname nil is invalid. ${OLD} The certname value must be a string.`,
      ],
      [
        'checksum as a number',
        { command: 'replace facts', version: 5, checksum: 5, payload },
        `Command "replace facts" for certname nil is invalid. ${OLD} The checksum value must be a string.`,
      ],
      [
        'a body that is an array',
        [{ command: 'replace facts', version: 5, payload }],
        `Command nil for certname nil is invalid. ${OLD} The request body must be a JSON map with required keys: command, version, payload.`,
      ],
    ];

    it.skipIf(skip).each(cases)("refuses %s with 400 in PuppetDB's format, for POST and PUT", async (_what, body, message) => {
      const before = await total();
      for (const method of ['POST', 'PUT']) {
        const r = await send(method, '', JSON.stringify(body));
        expect(r.status).toBe(400);
        expect(r.type).toBe('application/json;charset=utf-8');
        expect(r.json).toEqual({ error: message });
      }
      expect(await total()).toBe(before);
    });

    it.skipIf(skip)('still takes an integer version and a string certname', async () => {
      const r = await send('POST', '', JSON.stringify({ command: 'replace facts', version: 5, certname: CERTNAME, payload }));
      expect(r.status).toBe(200);
    });
  });

  describe(`payloads nested deeper than ${MAX_PAYLOAD_DEPTH} levels`, () => {
    const deep = nestedFacts('deep.example.com', 100_000);
    const DQ = '?command=replace_facts&version=5&certname=deep.example.com';

    it.skipIf(skip)('refuses 100,000 levels at submission, in both forms and gzipped, naming the limit', async () => {
      const before = await total();
      const prefix = 'Command "replace facts" for certname "deep.example.com" is invalid.';
      for (const method of ['POST', 'PUT']) {
        expect((await send(method, DQ, deep)).json).toEqual({ error: `${prefix} ${TOO_DEEP}` });
        const gz = await send(method, DQ, gzipSync(deep), { 'content-encoding': 'gzip' });
        expect([gz.status, gz.json]).toEqual([400, { error: `${prefix} ${TOO_DEEP}` }]);
        const old = await send(method, '', `{"command":"replace facts","version":5,"payload":${deep}}`);
        expect([old.status, old.json]).toEqual([400, { error: `Command nil for certname nil is invalid. ${OLD} ${TOO_DEEP}` }]);
        const arrays = await send(method, DQ, `${'['.repeat(MAX_PAYLOAD_DEPTH + 1)}${']'.repeat(MAX_PAYLOAD_DEPTH + 1)}`);
        expect([arrays.status, arrays.json]).toEqual([400, { error: `${prefix} ${TOO_DEEP}` }]);
      }
      expect(await total()).toBe(before);
    });

    it.skipIf(skip)('takes a payload exactly at the limit, processes it and answers queries over it', async () => {
      const atLimit = nestedFacts('limit.example.com', MAX_PAYLOAD_DEPTH - 1);
      const r = await send('POST', `?command=replace_facts&version=5&certname=limit.example.com&secondsToWaitForCompletion=10`, atLimit);
      expect(r.json).toEqual({ uuid: expect.any(String), processed: true, timed_out: false });
      const old = await send('POST', '?secondsToWaitForCompletion=10', `{"command":"replace facts","version":5,"payload":${atLimit}}`);
      expect(old.json).toEqual({ uuid: expect.any(String), processed: true, timed_out: false });
      expect(
        (await send('POST', '?command=replace_facts&version=5&certname=limit.example.com', nestedFacts('limit.example.com', MAX_PAYLOAD_DEPTH))).status,
      ).toBe(400);
      const factsets = await call(
        s.url,
        s.adminKey,
        'GET',
        `/pdb/query/v4/factsets?query=${encodeURIComponent(JSON.stringify(['=', 'certname', 'limit.example.com']))}`,
      );
      expect(factsets.status).toBe(200);
      let value = factsets.body[0].facts.data.find((f: { name: string }) => f.name === 'deep').value;
      let levels = 1;
      while (typeof value === 'object') {
        value = value.n;
        levels++;
      }
      expect([levels, value]).toEqual([MAX_PAYLOAD_DEPTH - 1, 'leaf']);
      const contents = await call(s.url, s.adminKey, 'GET', `/pdb/query/v4/fact-contents?query=${encodeURIComponent(JSON.stringify(['=', 'name', 'deep']))}`);
      expect(contents.status).toBe(200);
      expect(contents.body).toHaveLength(1);
      expect(contents.body[0].path).toHaveLength(MAX_PAYLOAD_DEPTH - 1);
    });
  });

  describe('an empty body with Content-Type: application/json', () => {
    it.skipIf(skip)('answers 401 without a key and 403 for a viewer before looking at the body', async () => {
      for (const method of ['POST', 'PUT']) {
        for (const query of [Q, '']) {
          const none = await send(method, query, '', {}, null);
          expect(none.status).toBe(401);
          expect(none.json.error).not.toMatch(/empty/);
          const viewer = await send(method, query, '', {}, viewerKey);
          expect(viewer.status).toBe(403);
          expect(viewer.json.error).not.toMatch(/empty/);
        }
        expect((await send(method, Q, 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }, viewerKey)).status).toBe(403);
      }
    });

    it.skipIf(skip)("is a clear 400 in PuppetDB's format in both forms, and queues nothing", async () => {
      const before = await total();
      for (const method of ['POST', 'PUT']) {
        const query = await send(method, Q, '');
        expect([query.status, query.type]).toEqual([400, 'application/json;charset=utf-8']);
        expect(query.json).toEqual({
          error: `Command "replace facts" for certname "${CERTNAME}" is invalid. The request body is empty: it must be the command's JSON payload.`,
        });
        const old = await send(method, '', '');
        expect([old.status, old.type]).toEqual([400, 'application/json;charset=utf-8']);
        expect(old.json).toEqual({
          error: `Command nil for certname nil is invalid. ${OLD} The request body must be a JSON map with required keys: command, version, payload.`,
        });
        const gz = await send(method, Q, gzipSync(''), { 'content-encoding': 'gzip' });
        expect(gz.json).toEqual(query.json);
      }
      expect(await total()).toBe(before);
    });
  });
});
