import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { bodyDigest, httpDate, signRequest } from '../../src/auth/http-signature.js';

/** A system enrolled for System Context tests: its id and private key. */
export interface SignedSystem {
  systemId: string;
  privateKeyPem: string;
}

/** Enrolls a system with a fresh RSA-2048 or Ed25519 key. */
export async function enrollSystem(
  base: string,
  enrollmentKey: string,
  hostname: string,
  type: 'rsa' | 'ed25519' = 'rsa',
  headers: Record<string, string> = {},
): Promise<SignedSystem> {
  const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  const res = await fetch(`${base}/agent/v1/enroll`, {
    method: 'POST',
    headers: { authorization: `Bearer ${enrollmentKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      public_key: pair.publicKey.export({ type: 'spki', format: 'pem' }),
      facts: { hostname, os: 'linux', os_release: 'Test OS 1', arch: 'x64', ip_addresses: ['10.9.8.7'], agent_version: '0.0.0-test' },
    }),
  });
  const body = (await res.json()) as { system_id: string };
  if (res.status !== 201) throw new Error(`enroll failed: ${res.status} ${JSON.stringify(body)}`);
  const privateKeyPem = (
    type === 'rsa' ? pair.privateKey.export({ type: 'pkcs1', format: 'pem' }) : pair.privateKey.export({ type: 'pkcs8', format: 'pem' })
  ).toString();
  return { systemId: body.system_id, privateKeyPem };
}

export interface SignOptions {
  /**
   * Signed headers. Default: the reference's `request-line date` plus a nonce,
   * because RSA signatures are deterministic and two equal changes within one
   * second would otherwise be refused as a replay.
   */
  headers?: string[];
  /** The Date to sign and send (default now). */
  date?: Date;
  /** Send this Date instead of the signed one. */
  sendDate?: string | null;
  /** Send the request to this path (and query) instead of the signed one. */
  sendPath?: string;
  /** Send this body instead of the signed one (the Digest stays the signed body's). */
  sendBody?: string;
  /** Replace the Authorization value. */
  authorization?: (signed: string) => string;
  /** Sign with this key instead of the system's. */
  privateKeyPem?: string;
  keyId?: string;
}

export interface Answer {
  status: number;
  body: any;
  authorization: string;
  date: string;
  /** The headers sent, for an exact replay. */
  sent: Record<string, string>;
}

/** Sends a request signed by `system` (our signer), with hooks to break it in one place at a time. */
export async function signedCall(base: string, system: SignedSystem, method: string, path: string, body?: unknown, o: SignOptions = {}): Promise<Answer> {
  const url = new URL(base);
  const payload = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const date = httpDate(o.date ?? new Date());
  const headers: Record<string, string> = { date, host: url.host, digest: bodyDigest(payload), 'x-nonce': randomBytes(8).toString('hex') };
  const signed = signRequest({
    keyId: o.keyId ?? `system/${system.systemId}`,
    privateKeyPem: o.privateKeyPem ?? system.privateKeyPem,
    request: { method, path, headers },
    headers: o.headers ?? ['request-line', 'date', 'x-nonce'],
  });
  const authorization = o.authorization ? o.authorization(signed) : signed;
  const send: Record<string, string> = { authorization, digest: headers.digest!, 'x-nonce': headers['x-nonce']!, accept: 'application/json' };
  if (o.sendDate !== null) send.date = o.sendDate ?? date;
  if (body !== undefined) send['content-type'] = 'application/json';
  return answer(
    await fetch(`${base}${o.sendPath ?? path}`, { method, headers: send, ...(body === undefined ? {} : { body: o.sendBody ?? payload }) }),
    authorization,
    date,
    send,
  );
}

/** Replays a request exactly: the same headers (Authorization, Date, …) and body. */
export async function replay(base: string, method: string, path: string, previous: Answer, body?: unknown): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method, headers: previous.sent, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return answer(res, previous.authorization, previous.date, previous.sent);
}

async function answer(res: Response, authorization: string, date: string, sent: Record<string, string>): Promise<Answer> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, authorization, date, sent };
}

const require = createRequire(import.meta.url);
/** Joyent's http-signature (CommonJS): the reference implementation of the scheme, an independent signer. */
const joyent = require('http-signature') as { sign(req: unknown, options: Record<string, unknown>): boolean };

/** Sends a request signed by Joyent's http-signature over node:http. */
export function joyentCall(
  base: string,
  system: SignedSystem,
  method: string,
  path: string,
  body: unknown,
  headers: string[],
): Promise<{ status: number; body: any }> {
  const url = new URL(base);
  const payload = body === undefined ? '' : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: { accept: 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.setHeader('host', url.host);
    req.setHeader('digest', bodyDigest(payload));
    if (body !== undefined) req.setHeader('content-type', 'application/json');
    joyent.sign(req, { key: system.privateKeyPem, keyId: `system/${system.systemId}`, headers });
    req.end(payload || undefined);
  });
}
