import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core/index.js';
import type { SubmitInput } from '../../core/ingest/index.js';
import { checkMediaTypes, readCommandBody } from './body.js';
import { PdbError, sendJson } from './errors.js';

const PARAMS = new Set(['command', 'version', 'certname', 'checksum', 'producer-timestamp', 'secondsToWaitForCompletion']);
const MAX_WAIT_S = 300;
const OLD_FORMAT = 'Command was submitted without query parameters (old format).';

function one(v: unknown): string | undefined {
  return Array.isArray(v) ? (v.at(-1) as string | undefined) : (v as string | undefined);
}

function waitSeconds(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0) throw new PdbError(400, 'secondsToWaitForCompletion must be a non-negative number.');
  return Math.min(n, MAX_WAIT_S);
}

/** The deprecated all-in-one body: `{"command", "version", "payload"[, "certname", "checksum"]}`. */
function fromEnvelope(body: string, checksum: string | undefined): SubmitInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const env = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  const name = typeof env?.command === 'string' ? env.command : undefined;
  const prefix = `Command ${name === undefined ? 'nil' : JSON.stringify(name)} for certname nil is invalid. ${OLD_FORMAT}`;
  if (!env || !['command', 'version', 'payload'].every((k) => Object.hasOwn(env, k))) {
    throw new PdbError(400, `${prefix} The request body must be a JSON map with required keys: command, version, payload.`);
  }
  if (typeof env.payload !== 'object' || env.payload === null || Array.isArray(env.payload)) throw new PdbError(400, `${prefix} The payload value must be a JSON map.`);
  return {
    command: name,
    version: typeof env.version === 'number' || typeof env.version === 'string' ? env.version : undefined,
    certname: typeof env.certname === 'string' ? env.certname : undefined,
    payload: JSON.stringify(env.payload),
    checksum: checksum ?? (typeof env.checksum === 'string' ? env.checksum : undefined),
    checksummedBody: body,
  };
}

function fromQuery(query: Record<string, unknown>, body: string): SubmitInput {
  return {
    command: one(query.command)?.replaceAll('_', ' '),
    version: one(query.version),
    certname: one(query.certname),
    payload: body,
    checksum: one(query.checksum),
    producerTimestamp: one(query['producer-timestamp']),
    certnameRequired: true,
  };
}

function isQueryForm(query: Record<string, unknown>): boolean {
  return ['command', 'version', 'certname'].some((k) => Object.hasOwn(query, k));
}

/** POST /pdb/cmd/v1: both submission forms, blocking mode, size limits and gzip. */
export function commandRoutes(app: FastifyInstance, deps: { core: Core; maxCommandBytes: number }): void {
  app.post('/cmd/v1', async (req: FastifyRequest, reply) => {
    const query = req.query as Record<string, unknown>;
    checkMediaTypes(req.raw);
    const invalid = Object.keys(query).filter((k) => !PARAMS.has(k));
    if (invalid.length > 0) throw new PdbError(400, `Command has invalid parameters: ${invalid.join(', ')}.`);
    const wait = waitSeconds(one(query.secondsToWaitForCompletion));
    const body = await readCommandBody(req.raw, deps.maxCommandBytes);
    const input = isQueryForm(query) ? fromQuery(query, body) : fromEnvelope(body, one(query.checksum));
    const actor = req.pdbActor!;
    const { id } = await deps.core.ingest.submit(actor, input);
    if (wait === 0) return sendJson(reply, 200, { uuid: id });
    const r = await deps.core.ingest.waitFor(actor, id, wait * 1000);
    if (r.timedOut) return sendJson(reply, 503, { uuid: id, processed: false, timed_out: true });
    return sendJson(reply, 200, { uuid: id, processed: true, timed_out: false, ...(r.error === undefined ? {} : { error: r.error, exception: r.error }) });
  });
}
