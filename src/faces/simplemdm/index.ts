import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { API_KEY_REQUIRED, apiKeyResolver } from '../../auth/api-key.js';
import type { Core } from '../../core/index.js';
import { MusterError } from '../../core/errors.js';
import { authenticateWith, type Face } from '../face.js';
import { sendError } from '../http-errors.js';
import { deviceRoutes } from './routes/devices.js';
import { referenceJobRoutes } from './routes/reference-jobs.js';
import { scriptJobRoutes } from './routes/script-jobs.js';
import { scriptRoutes } from './routes/scripts.js';

export interface SimplemdmDeps {
  core: Core;
}

/** SimpleMDM's error body; `code` carries muster's code so scripts can branch without parsing prose. */
export function simplemdmErrorBody(code: string, message: string, requestId: string): unknown {
  return { errors: [{ title: message, code, request_id: requestId }] };
}

/** Uploaded scripts are refused past this; core then holds the content to its own limit (1 MiB by default). */
const MAX_UPLOAD_BYTES = 8 * 1024 * 1024;

/**
 * The SimpleMDM-compatible API, under /api/v1: scripts, script jobs, devices,
 * device and assignment groups and custom attributes, with integer ids, and
 * the job shapes of the request that asked for scripts in SimpleMDM's API
 * (`/api/v1/jobs`, `/api/v1/job/…`). HTTP Basic with the API key as user
 * name (or any header the API key resolver reads); errors in SimpleMDM's
 * `{"errors": [{"title"}]}`.
 */
export function simplemdmFace(deps: SimplemdmDeps): Face {
  return { name: 'simplemdm', prefix: '/api/v1', register: (scope) => registerSimplemdm(scope, deps) };
}

async function registerSimplemdm(app: FastifyInstance, deps: SimplemdmDeps): Promise<void> {
  app.setErrorHandler((err, req, reply) => sendError(req, reply, uploadError(err, req.isMultipart()), simplemdmErrorBody));
  app.setNotFoundHandler((req, reply) =>
    sendError(req, reply, new MusterError('NOT_FOUND', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`), simplemdmErrorBody),
  );
  authenticateWith(app, [apiKeyResolver(deps.core.keys)], API_KEY_REQUIRED);
  // Forms, as curl -d and -F send them; a repeated name is a list.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(body as string)) {
      const old = out[k];
      out[k] = old === undefined ? v : [old, v].flat();
    }
    done(null, out);
  });
  await app.register(multipart, { attachFieldsToBody: true, limits: { fileSize: MAX_UPLOAD_BYTES, files: 4, fields: 100, parts: 104 } });
  scriptRoutes(app, deps.core);
  scriptJobRoutes(app, deps.core);
  referenceJobRoutes(app, deps.core);
  deviceRoutes(app, deps.core);
}

/** What the multipart reader (busboy) says of a form it cannot read. */
const UNREADABLE_FORM =
  /^(Unexpected end of multipart data|Multipart: Boundary not found|Boundary required|Malformed part header|Unsupported Content-Type|Missing Content-Type)/;

/** Multipart's own errors, in the codes every face maps. */
function uploadError(err: unknown, multipart: boolean): unknown {
  if (multipart && err instanceof Error && UNREADABLE_FORM.test(err.message))
    return new MusterError('INVALID_ARGUMENT', `the multipart form could not be read: ${err.message}`);
  const code = (err as { code?: string })?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new MusterError('PAYLOAD_TOO_LARGE', `an uploaded file may be at most ${MAX_UPLOAD_BYTES} bytes`);
  if (typeof code === 'string' && code.startsWith('FST_') && (err as { statusCode?: number }).statusCode === 413)
    return new MusterError('PAYLOAD_TOO_LARGE', 'the form has too many parts or is too large');
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE' || code === 'FST_MULTIPART_INVALID_CONTENT_TYPE')
    return new MusterError('INVALID_ARGUMENT', 'the multipart form could not be read');
  return err;
}
