import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bodyDigest, parseSignatureHeader, signingString, signRequest, verifySignature, type ParsedSignature } from './http-signature.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPublic = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const rsaPrivate = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const date = 'Mon, 23 Nov 2026 12:00:00 GMT';
const request = { method: 'GET', path: '/api/systems/abc', headers: { date } };

function parsed(header: string): ParsedSignature {
  const p = parseSignatureHeader(header);
  if (typeof p === 'string') throw new Error(p);
  return p;
}

describe('HTTP Signatures', () => {
  it('builds the signing string exactly as the reference script does', () => {
    expect(signingString(['request-line', 'date'], request)).toBe(`GET /api/systems/abc HTTP/1.1\ndate: ${date}`);
    expect(signingString(['(request-target)', 'date'], { ...request, method: 'PUT' })).toBe(`(request-target): put /api/systems/abc\ndate: ${date}`);
  });

  it('verifies what it signs, and nothing else', () => {
    const p = parsed(signRequest({ keyId: 'system/abc', privateKeyPem: rsaPrivate, request }));
    expect(p).toMatchObject({ keyId: 'system/abc', algorithm: 'rsa-sha256', headers: ['request-line', 'date'] });
    expect(verifySignature(p, signingString(p.headers, request), rsaPublic)).toBe(true);
    expect(verifySignature(p, signingString(p.headers, { ...request, path: '/api/systems/other' }), rsaPublic)).toBe(false);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifySignature(p, signingString(p.headers, request), other)).toBe(false);
    expect(verifySignature(p, signingString(p.headers, request), 'not a key')).toBe(false);
  });

  it("accepts a signature made by openssl with the reference script's commands", () => {
    const dir = mkdtempSync(join(tmpdir(), 'muster-sig-'));
    writeFileSync(join(dir, 'client.key'), rsaPrivate, { mode: 0o600 });
    const signstr = `GET /api/systems/abc HTTP/1.1\\ndate: ${date}`;
    const signature = execFileSync('bash', [
      '-c',
      `printf "${signstr}" | openssl dgst -sha256 -sign ${dir}/client.key | openssl enc -e -a | tr -d '\\n'`,
    ]).toString();
    const header = `Signature keyId="system/abc",headers="request-line date",algorithm="rsa-sha256",signature="${signature}"`;
    const p = parsed(header);
    expect(verifySignature(p, signingString(p.headers, request), rsaPublic)).toBe(true);
  });

  it('supports ed25519 keys and refuses an algorithm that does not match the key', () => {
    const ed = generateKeyPairSync('ed25519');
    const p = parsed(signRequest({ keyId: 'system/abc', privateKeyPem: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), request }));
    expect(p.algorithm).toBe('ed25519');
    const edPublic = ed.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifySignature(p, signingString(p.headers, request), edPublic)).toBe(true);
    expect(verifySignature({ ...p, algorithm: 'rsa-sha256' }, signingString(p.headers, request), edPublic)).toBe(false);
  });

  it('explains malformed headers', () => {
    expect(parseSignatureHeader(undefined)).toBe('missing Authorization header');
    expect(parseSignatureHeader('Bearer x')).toBe('Authorization is not a Signature');
    expect(parseSignatureHeader('Signature signature="eA=="')).toBe('signature has no keyId');
    expect(parseSignatureHeader('Signature keyId="a",algorithm="md5",signature="eA=="')).toBe('unsupported signature algorithm md5');
    expect(parseSignatureHeader('Signature keyId="a",signature="eA=="')).toMatchObject({ headers: ['date'], algorithm: 'hs2019' });
  });

  it('computes SHA-256 body digests', () => {
    expect(bodyDigest('{"hello": "world"}')).toBe('SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=');
  });
});
