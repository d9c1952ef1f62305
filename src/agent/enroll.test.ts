import { execFileSync } from 'node:child_process';
import { verify } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Compile } from 'typebox/compile';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentFacts } from '../protocol/messages.js';
import { enrollAgent } from './enroll.js';

interface Received {
  authorization: string | undefined;
  body: { public_key: string; facts: unknown; tags: string[] };
}

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** A fake muster server's enroll endpoint. */
async function fakeServer(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      received.push({ authorization: req.headers.authorization, body: JSON.parse(text) as Received['body'] });
      answer(req, res);
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, received };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const accept = (req: IncomingMessage, res: ServerResponse) =>
  req.url === '/agent/v1/enroll' && req.method === 'POST' ? json(res, 201, { system_id: 'sys5f3a', organization_id: 'org1' }) : json(res, 404, {});

function stateDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'muster-enroll-')), 'state');
}

describe('enrollAgent', () => {
  it('registers a fresh key and leaves an identity the reference script can read', async () => {
    const server = await fakeServer(accept);
    const dir = stateDir();
    const identity = await enrollAgent({ server: `${server.url}/`, enrollmentKey: 'mek_123', stateDir: dir, tags: ['web', 'eu'], force: false });
    expect(identity).toEqual({ systemKey: 'sys5f3a', server: server.url, organizationId: 'org1' });

    const [request] = server.received;
    expect(request!.authorization).toBe('Bearer mek_123');
    expect(request!.body.public_key).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(request!.body.tags).toEqual(['web', 'eu']);
    expect(Compile(AgentFacts).Check(request!.body.facts)).toBe(true);

    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'agent.conf')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'client.key')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(dir, 'agent.conf'), 'utf8'))).toEqual({ systemKey: 'sys5f3a', server: server.url, organizationId: 'org1' });
    // The JumpCloud reference script's own extraction.
    const script = `conf="\`cat "$1"\`"
regex="systemKey\\":\\"(\\w+)\\""
if [[ $conf =~ $regex ]] ; then echo "\${BASH_REMATCH[1]}"; fi`;
    const extracted = execFileSync('bash', ['-c', script, 'bash', join(dir, 'agent.conf')]);
    expect(extracted.toString()).toBe('sys5f3a\n');
    // openssl signs with the key, and the registered public key verifies it.
    const data = join(dir, 'data.txt');
    writeFileSync(data, 'GET /api/systems/sys5f3a HTTP/1.1\ndate: Mon, 23 Nov 2026 12:00:00 GMT');
    const signature = execFileSync('openssl', ['dgst', '-sha256', '-sign', join(dir, 'client.key'), data]);
    expect(verify('sha256', readFileSync(data), request!.body.public_key, signature)).toBe(true);
  });

  it('reports the server’s refusal and writes nothing', async () => {
    const server = await fakeServer((_req, res) =>
      json(res, 401, { error: { code: 'UNAUTHENTICATED', message: 'the enrollment key is not valid', request_id: 'req1' } }),
    );
    const dir = stateDir();
    await expect(enrollAgent({ server: server.url, enrollmentKey: 'mek_bogus', stateDir: dir, tags: [], force: false })).rejects.toThrow(
      'the server refused the enrollment: the enrollment key is not valid',
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('says so when the server cannot be reached', async () => {
    const server = await fakeServer(accept);
    servers.splice(0).forEach((s) => s.close());
    const dir = stateDir();
    await expect(enrollAgent({ server: server.url, enrollmentKey: 'k', stateDir: dir, tags: [], force: false })).rejects.toThrow(
      /cannot reach the muster server/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses to replace an enrollment without force', async () => {
    const server = await fakeServer(accept);
    const dir = stateDir();
    await enrollAgent({ server: server.url, enrollmentKey: 'k', stateDir: dir, tags: [], force: false });
    const key = readFileSync(join(dir, 'client.key'), 'utf8');
    await expect(enrollAgent({ server: server.url, enrollmentKey: 'k', stateDir: dir, tags: [], force: false })).rejects.toThrow(/already enrolled.*--force/);
    expect(server.received).toHaveLength(1);
    await enrollAgent({ server: server.url, enrollmentKey: 'k', stateDir: dir, tags: [], force: true });
    expect(server.received).toHaveLength(2);
    expect(readFileSync(join(dir, 'client.key'), 'utf8')).not.toBe(key);
    expect(existsSync(join(dir, 'agent.conf'))).toBe(true);
  });

  it('rejects a server that is not an http(s) URL', async () => {
    await expect(enrollAgent({ server: 'muster.example.com', enrollmentKey: 'k', stateDir: stateDir(), tags: [], force: false })).rejects.toThrow(
      /--server must be/,
    );
  });
});
