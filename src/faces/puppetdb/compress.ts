import { pipeline, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGzip, gzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply } from 'fastify';

const gzipAsync = promisify(gzip);

/**
 * Bodies smaller than this go out as they are: below ~1 KiB gzip's 18-byte
 * frame and the CPU buy next to nothing (a 60-byte version answer grows).
 */
export const MIN_GZIP_BYTES = 1024;

/** A qvalue as RFC 9110 §12.4.2 writes it; anything else is malformed. */
const QVALUE = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/;

/** The weight one Accept-Encoding member gives its coding; NaN when its q is malformed. */
function weight(params: string[]): number {
  for (const param of params) {
    const [key, value] = param.split('=').map((s) => s.trim());
    if (key?.toLowerCase() !== 'q') continue;
    return value !== undefined && QVALUE.test(value) ? Number(value) : Number.NaN;
  }
  return 1;
}

/**
 * Whether an Accept-Encoding header lets the response be gzipped: a `gzip`
 * (or legacy `x-gzip`) member decides when present, otherwise `*` does; a
 * weight of 0 refuses; a member with a malformed weight is ignored. No
 * header or an empty one means identity, which every client takes.
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let gzipQ: number | undefined;
  let anyQ: number | undefined;
  for (const member of header.split(',')) {
    const [coding = '', ...params] = member.split(';');
    const name = coding.trim().toLowerCase();
    if (name !== 'gzip' && name !== 'x-gzip' && name !== '*') continue;
    const q = weight(params);
    if (Number.isNaN(q)) continue;
    if (name === '*') anyQ = Math.max(anyQ ?? 0, q);
    else gzipQ = Math.max(gzipQ ?? 0, q);
  }
  return (gzipQ ?? anyQ ?? 0) > 0;
}

function isStream(payload: unknown): payload is Readable {
  return typeof payload === 'object' && payload !== null && typeof (payload as Readable).pipe === 'function';
}

/** Adds Accept-Encoding to Vary, once, unless Vary is already `*`. */
function varyOnEncoding(reply: FastifyReply): void {
  const current = reply.getHeader('vary');
  const list = (Array.isArray(current) ? current.join(',') : String(current ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.some((v) => v === '*' || v.toLowerCase() === 'accept-encoding')) return;
  reply.header('vary', [...list, 'Accept-Encoding'].join(', '));
}

/**
 * The size a payload is known to have: its length for a string or Buffer,
 * the declared Content-Length for a stream (undefined when it declares none).
 */
function knownSize(reply: FastifyReply, payload: string | Buffer | Readable): number | undefined {
  if (typeof payload === 'string') return Buffer.byteLength(payload);
  if (Buffer.isBuffer(payload)) return payload.length;
  const declared = Number(reply.getHeader('content-length'));
  return reply.hasHeader('content-length') && Number.isFinite(declared) ? declared : undefined;
}

/**
 * Gzips the face's answers for clients that accept it, as PuppetDB does
 * (Puppet's terminus sends `Accept-Encoding: gzip`). Registered inside the
 * encapsulated /pdb plugin, so no other face is affected. Leaves alone:
 * bodiless answers (204, 304, 1xx, none), bodies under MIN_GZIP_BYTES,
 * answers already carrying a Content-Encoding, and web streams. HEAD runs
 * the GET handler, so it gets the same headers GET would, with the
 * compressed length.
 */
export function compressResponses(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    const status = reply.statusCode;
    if (status < 200 || status === 204 || status === 304 || reply.hasHeader('content-encoding')) return payload;
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload) && !isStream(payload)) return payload;
    const size = knownSize(reply, payload);
    if (size !== undefined && size < MIN_GZIP_BYTES) return payload;
    // From here the representation depends on Accept-Encoding, compressed or not: caches must know.
    varyOnEncoding(reply);
    if (!acceptsGzip(req.headers['accept-encoding'])) return payload;
    reply.header('content-encoding', 'gzip');
    if (isStream(payload)) {
      // Length unknown until the end: the body goes out chunked. pipeline() carries a source error to the gzip stream.
      reply.removeHeader('content-length');
      return pipeline(payload, createGzip(), () => {});
    }
    const body = await gzipAsync(payload);
    reply.header('content-length', String(body.length));
    return body;
  });
}
