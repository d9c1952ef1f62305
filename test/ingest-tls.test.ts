import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';
import { makeTestPki, type TestPki } from './support/tls-certs.js';

const FACTS = readFileSync(new URL('./fixtures/puppetdb-payloads/facts-v5-minimal.json', import.meta.url), 'utf8');
const PATH = '/pdb/cmd/v1?command=replace_facts&version=5&certname=wire1.example.com';

/** POST over HTTPS with our CA, optionally presenting a client certificate or an API key. */
function post(url: string, pki: TestPki, opts: { client?: boolean; key?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${PATH}`,
      {
        method: 'POST',
        ca: pki.read(pki.caCert),
        ...(opts.client ? { cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) } : {}),
        headers: { 'content-type': 'application/json', ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}) },
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(FACTS);
  });
}

describe.each(DATABASES)('HTTPS and /pdb authentication on $name', ({ name, skip }) => {
  let pki: TestPki;
  let loopback: TestServer;
  let certs: TestServer;
  let keyOnly: TestServer;
  beforeAll(async () => {
    if (skip) return;
    pki = makeTestPki();
    const tls = { tls_cert: pki.serverCert, tls_key: pki.serverKey };
    loopback = await startTestServer(name, { ...tls, pdb_auth: 'loopback' });
    certs = await startTestServer(name, { ...tls, tls_client_ca: pki.caCert, pdb_auth: 'client_cert' });
    keyOnly = await startTestServer(name, tls);
  });
  afterAll(async () => {
    if (skip) return;
    await Promise.all([loopback.stop(), certs.stop(), keyOnly.stop()]);
  });

  it.skipIf(skip)('serves HTTPS and trusts loopback reporters when configured', async () => {
    expect(loopback.url).toMatch(/^https:\/\//);
    const r = await post(loopback.url, pki);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ uuid: expect.any(String) });
  });

  it.skipIf(skip)('trusts verified client certificates when configured, and nothing else', async () => {
    expect((await post(certs.url, pki, { client: true })).status).toBe(200);
    const anonymous = await post(certs.url, pki);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body).error).toMatch(/API key/);
  });

  it.skipIf(skip)('by default wants an API key, even from loopback', async () => {
    expect((await post(keyOnly.url, pki)).status).toBe(401);
    expect((await post(keyOnly.url, pki, { key: keyOnly.adminKey })).status).toBe(200);
    expect((await post(keyOnly.url, pki, { key: 'mk_wrong_0123456789abcdef0123' })).status).toBe(401);
  });
});
