import type { FastifyInstance } from 'fastify';
import { API_KEY_REQUIRED, apiKeyResolver } from '../../auth/api-key.js';
import { MusterError } from '../../core/errors.js';
import { sendError } from '../http-errors.js';
import { authenticateWith, type Face } from '../face.js';
import type { NativeDeps } from './context.js';
import { auditRoutes } from './routes/audit.js';
import { savedCommandRoutes } from './routes/commands.js';
import { eventRoutes } from './routes/events.js';
import { groupRoutes } from './routes/groups.js';
import { ingestRoutes } from './routes/ingest.js';
import { jobRoutes } from './routes/jobs.js';
import { keyRoutes } from './routes/keys.js';
import { organizationRoutes } from './routes/organizations.js';
import { scriptRoutes } from './routes/scripts.js';
import { sessionRoutes } from './routes/sessions.js';
import { systemRoutes } from './routes/systems.js';
import { triggerRoutes } from './routes/triggers.js';
import { userRoutes } from './routes/users.js';
import { webhookRoutes } from './routes/webhooks.js';

/** The native error body: `{"error": {"code", "message", "request_id"}}`. */
export function nativeErrorBody(code: string, message: string, requestId: string): unknown {
  return { error: { code, message, request_id: requestId } };
}

/** The native API, under /v1: API keys only. */
export function nativeFace(deps: NativeDeps): Face {
  return { name: 'native', prefix: '/v1', register: (scope) => registerNative(scope, deps) };
}

async function registerNative(app: FastifyInstance, deps: NativeDeps): Promise<void> {
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err, nativeErrorBody));
  app.setNotFoundHandler((req, reply) =>
    sendError(req, reply, new MusterError('NOT_FOUND', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`), nativeErrorBody),
  );
  authenticateWith(app, [apiKeyResolver(deps.core.keys)], API_KEY_REQUIRED);
  organizationRoutes(app, deps);
  keyRoutes(app, deps);
  systemRoutes(app, deps);
  groupRoutes(app, deps);
  userRoutes(app, deps);
  scriptRoutes(app, deps);
  savedCommandRoutes(app, deps);
  triggerRoutes(app, deps);
  jobRoutes(app, deps);
  eventRoutes(app, deps);
  ingestRoutes(app, deps);
  sessionRoutes(app, deps);
  webhookRoutes(app, deps);
  auditRoutes(app, deps);
}
