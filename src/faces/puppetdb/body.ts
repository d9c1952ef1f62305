import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import { PdbError } from './errors.js';

export const TOO_LARGE = 'Command rejected due to size exceeding max-command-size';

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** 406 unless the client accepts JSON; 415 for a body type other than JSON (none is fine). */
export function checkMediaTypes(req: IncomingMessage): void {
  const accept = header(req, 'accept');
  if (accept && !/(^|,)\s*(application\/json|application\/\*|\*\/\*)\s*(;|,|$)/i.test(accept)) throw new PdbError(406, 'must accept application/json', true);
  const type = header(req, 'content-type')?.split(';')[0]!.trim().toLowerCase();
  if (type && type !== 'application/json') throw new PdbError(415, `content type ${type} not supported`, true);
}

function declaredTooLarge(req: IncomingMessage, max: number): boolean {
  return ['content-length', 'x-uncompressed-length'].some((h) => {
    const v = header(req, h);
    return v !== undefined && /^\d+$/.test(v.trim()) && Number(v) > max;
  });
}

/** Collects a stream up to `max` bytes; rejects with 413 past it. */
function collect(stream: NodeJS.ReadableStream, max: number, onTooLarge: () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        onTooLarge();
        reject(new PdbError(413, TOO_LARGE, true));
        return;
      }
      parts.push(chunk);
    });
    let ended = false;
    stream.on('end', () => {
      ended = true;
      resolve(Buffer.concat(parts));
    });
    stream.on('error', (err: Error) => reject(err));
    // A client that goes away mid-body must not leave the request hanging.
    stream.on('close', () => {
      if (!ended) reject(new PdbError(400, 'The request body ended early'));
    });
  });
}

/**
 * Reads a command body: identity or gzip, at most `max` bytes uncompressed.
 * The limit is decided from Content-Length and X-Uncompressed-Length before
 * reading, and enforced again while reading and while inflating.
 */
export async function readCommandBody(req: IncomingMessage, max: number): Promise<string> {
  const encoding = (header(req, 'content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') throw new PdbError(415, `content encoding ${encoding} not supported`, true);
  if (declaredTooLarge(req, max)) throw new PdbError(413, TOO_LARGE, true);
  if (encoding === 'identity') return (await collect(req, max, () => req.pause())).toString('utf8');
  const gunzip = createGunzip();
  req.on('data', (chunk: Buffer) => {
    if (!gunzip.destroyed) gunzip.write(chunk);
  });
  req.on('end', () => gunzip.end());
  req.on('close', () => {
    if (!req.complete) gunzip.destroy();
  });
  try {
    return (await collect(gunzip, max, () => gunzip.destroy())).toString('utf8');
  } catch (err) {
    if (err instanceof PdbError) throw err;
    throw new PdbError(400, `The request body is not valid gzip: ${(err as Error).message}`);
  }
}
