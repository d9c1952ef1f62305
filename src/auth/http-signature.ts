import { hash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * HTTP Signatures as JumpCloud's System Context API uses them (draft-cavage):
 *
 *   Authorization: Signature keyId="system/<id>",headers="request-line date",
 *                  algorithm="rsa-sha256",signature="<base64>"
 *
 * The signing string for `request-line date` is exactly
 * `<METHOD> <path and query> HTTP/1.1\ndate: <Date>` (reference 001). Also
 * understood: `(request-target)`, any other header by name (e.g. `host`,
 * `digest`), and ed25519 keys. This module is pure: no I/O, no clock; the
 * agent uses it to sign and the server to verify.
 */
export interface ParsedSignature {
  keyId: string;
  algorithm: string;
  headers: string[];
  signature: Buffer;
}

export interface SignedRequest {
  method: string;
  /** Path and query exactly as sent on the request line. */
  path: string;
  /** Header values by lower-case name. */
  headers: Record<string, string | undefined>;
}

const PARAM = /([a-zA-Z]+)="([^"]*)"/g;
const ALGORITHMS = new Set(['rsa-sha256', 'ed25519', 'hs2019']);
/** Other names for the same algorithms (Joyent's http-signature writes `ed25519-sha512`: Ed25519 hashes with SHA-512 internally). */
const ALIASES: Record<string, string> = { 'ed25519-sha512': 'ed25519' };

/** Parses an `Authorization: Signature …` value; returns a reason string when malformed. */
export function parseSignatureHeader(value: string | undefined): ParsedSignature | string {
  if (!value) return 'missing Authorization header';
  const match = /^Signature\s+(.*)$/is.exec(value.trim());
  if (!match) return 'Authorization is not a Signature';
  const params = new Map<string, string>();
  for (const m of match[1]!.matchAll(PARAM)) params.set(m[1]!.toLowerCase(), m[2]!);
  const keyId = params.get('keyid');
  const signature = params.get('signature');
  if (!keyId) return 'signature has no keyId';
  if (!signature) return 'signature has no signature';
  const named = (params.get('algorithm') ?? 'hs2019').toLowerCase();
  const algorithm = ALIASES[named] ?? named;
  if (!ALGORITHMS.has(algorithm)) return `unsupported signature algorithm ${algorithm}`;
  // draft-cavage: when `headers` is absent, only `date` is signed.
  const headers = (params.get('headers') ?? 'date').toLowerCase().split(/\s+/).filter(Boolean);
  return { keyId, algorithm, headers, signature: Buffer.from(signature, 'base64') };
}

/** Builds the signing string for the listed headers; throws SignatureInputError when one is missing. */
export function signingString(headers: string[], request: SignedRequest): string {
  const lines: string[] = [];
  for (const name of headers) {
    if (name === 'request-line') {
      lines.push(`${request.method.toUpperCase()} ${request.path} HTTP/1.1`);
    } else if (name === '(request-target)') {
      lines.push(`(request-target): ${request.method.toLowerCase()} ${request.path}`);
    } else {
      const value = request.headers[name];
      if (value === undefined) throw new SignatureInputError(`signed header ${name} is missing`);
      lines.push(`${name}: ${value}`);
    }
  }
  return lines.join('\n');
}

/** A signed header the request does not carry. */
export class SignatureInputError extends Error {}

/** Verifies `parsed` over `data` with a PEM public key (RSA or Ed25519). Never throws. */
export function verifySignature(parsed: ParsedSignature, data: string, publicKeyPem: string): boolean {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch {
    return false;
  }
  const type = key.asymmetricKeyType;
  if (parsed.algorithm === 'rsa-sha256' && type !== 'rsa') return false;
  if (parsed.algorithm === 'ed25519' && type !== 'ed25519') return false;
  try {
    // crypto.verify compares in constant time.
    return verify(type === 'ed25519' ? null : 'sha256', Buffer.from(data), key, parsed.signature);
  } catch {
    return false;
  }
}

/** The `Digest` header value for a body (RFC 3230, SHA-256). */
export function bodyDigest(body: Buffer | string): string {
  return `SHA-256=${hash('sha256', body, 'base64')}`;
}

/** Formats a Date as the HTTP `Date` header does (IMF-fixdate). */
export function httpDate(date: Date): string {
  return date.toUTCString();
}

export interface SignOptions {
  keyId: string;
  privateKeyPem: string;
  request: SignedRequest;
  headers?: string[];
}

/** Signs a request the way the reference script does; returns the Authorization value. */
export function signRequest(options: SignOptions): string {
  const headers = options.headers ?? ['request-line', 'date'];
  const key = createPrivateKey(options.privateKeyPem);
  const ed = key.asymmetricKeyType === 'ed25519';
  const data = Buffer.from(signingString(headers, options.request));
  const signature = sign(ed ? null : 'sha256', data, key).toString('base64');
  const algorithm = ed ? 'ed25519' : 'rsa-sha256';
  return `Signature keyId="${options.keyId}",headers="${headers.join(' ')}",algorithm="${algorithm}",signature="${signature}"`;
}
