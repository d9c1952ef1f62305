import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core/index.js';
import { COMMAND_LIST } from '../../core/ingest/commands.js';
import { jsonDepth, MAX_PAYLOAD_DEPTH, tooDeepMessage } from '../../core/ingest/depth.js';
import type { SubmitInput } from '../../core/ingest/index.js';
import { checkMediaTypes, readCommandBody } from './body.js';
import { actorOf } from './caller.js';
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

/** The opening of every refusal of the deprecated form, as PuppetDB words it. */
function oldFormPrefix(name: unknown): string {
  const shown = name === undefined || name === null ? 'nil' : JSON.stringify(name);
  return `Command ${shown} for certname nil is invalid. ${OLD_FORMAT}`;
}

/** The body as a JSON map, or undefined; its depth is measured first, so no parse or re-serialization can overflow the stack. */
function envelopeOf(body: string): Record<string, unknown> | undefined {
  // The envelope adds one level above the payload.
  if (jsonDepth(body, MAX_PAYLOAD_DEPTH + 1) > MAX_PAYLOAD_DEPTH + 1) throw new PdbError(400, `${oldFormPrefix(undefined)} ${tooDeepMessage()}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}

/** A string member of the envelope: absent or null is undefined; any other type is refused. */
function optionalString(env: Record<string, unknown>, key: string, prefix: string): string | undefined {
  const v = env[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new PdbError(400, `${prefix} The ${key} value must be a string.`);
  return v;
}

/**
 * The deprecated all-in-one body: `{"command", "version", "payload"[, "certname", "checksum"]}`.
 * Its members keep their JSON types: the command and certname are strings,
 * the version a JSON integer (`"5"` is refused, as PuppetDB refuses it), the
 * payload a map.
 */
function fromEnvelope(body: string, checksum: string | undefined): SubmitInput {
  const env = envelopeOf(body);
  if (!env || !['command', 'version', 'payload'].every((k) => Object.hasOwn(env, k))) {
    throw new PdbError(
      400,
      `${oldFormPrefix(typeof env?.command === 'string' ? env.command : undefined)} The request body must be a JSON map with required keys: command, version, payload.`,
    );
  }
  const prefix = oldFormPrefix(env.command);
  if (typeof env.command !== 'string') throw new PdbError(400, `${prefix} ${COMMAND_LIST}`);
  if (typeof env.payload !== 'object' || env.payload === null || Array.isArray(env.payload))
    throw new PdbError(400, `${prefix} The payload value must be a JSON map.`);
  if (typeof env.version !== 'number' || !Number.isSafeInteger(env.version)) throw new PdbError(400, 'Version must be a valid integer.');
  return {
    command: env.command,
    version: env.version,
    certname: optionalString(env, 'certname', prefix),
    payload: JSON.stringify(env.payload),
    checksum: checksum ?? optionalString(env, 'checksum', prefix),
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

/**
 * POST (or PUT, which PuppetDB takes the same way) /pdb/cmd/v1: both
 * submission forms, blocking mode, size limits and gzip.
 */
export function ingestCommandRoutes(app: FastifyInstance, deps: { core: Core; maxCommandBytes: number }): void {
  app.route({
    method: ['POST', 'PUT'],
    url: '/cmd/v1',
    handler: async (req: FastifyRequest, reply) => {
      const query = req.query as Record<string, unknown>;
      const actor = actorOf(req);
      deps.core.ingest.authorizeSubmit(actor);
      checkMediaTypes(req.raw);
      const invalid = Object.keys(query).filter((k) => !PARAMS.has(k));
      if (invalid.length > 0) throw new PdbError(400, `Command has invalid parameters: ${invalid.join(', ')}.`);
      const wait = waitSeconds(one(query.secondsToWaitForCompletion));
      const body = await readCommandBody(req.raw, deps.maxCommandBytes);
      const input = isQueryForm(query) ? fromQuery(query, body) : fromEnvelope(body, one(query.checksum));
      const { id } = await deps.core.ingest.submit(actor, input);
      if (wait === 0) return sendJson(reply, 200, { uuid: id });
      const r = await deps.core.ingest.waitFor(actor, id, wait * 1000);
      if (r.timedOut) return sendJson(reply, 503, { uuid: id, processed: false, timed_out: true });
      return sendJson(reply, 200, { uuid: id, processed: true, timed_out: false, ...(r.error === undefined ? {} : { error: r.error, exception: r.error }) });
    },
  });
}
