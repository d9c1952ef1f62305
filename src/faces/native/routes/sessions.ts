import type { FastifyInstance, FastifyRequest } from 'fastify';
import type {} from '@fastify/websocket';
import Type, { type Static } from 'typebox';
import type { WebSocket } from 'ws';
import {
  AmbiguousSession,
  IdParams,
  OpenSessionBody,
  Session,
  SessionList,
  SessionListQuery,
  SessionSettings,
  type AttachControl,
  type SessionCandidate,
} from '../../../api/native/index.js';
import { API_KEY_REQUIRED } from '../../../auth/api-key.js';
import { isMusterError, MusterError } from '../../../core/errors.js';
import type { Attachment, SessionRecord, SessionViewer } from '../../../core/sessions/index.js';
import type { SystemRecord } from '../../../core/systems/index.js';
import type { RouteAuthConfig } from '../../face.js';
import { classify, STATUS } from '../../http-errors.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { actorOf, type NativeDeps } from '../context.js';
import { answers } from '../schemas.js';

/** POST /v1/sessions/{id}/attach-ticket. */
export const AttachTicket = Type.Object({ ticket: Type.String(), expires_at: Type.String({ description: 'ISO-8601 instant' }) });
export type AttachTicket = Static<typeof AttachTicket>;

/** An asciicast v2 file: a header line, then one `[seconds, "o"|"i"|"r", text]` line per event. */
const Recording = {
  description: 'asciicast v2 (asciinema play can replay it)',
  content: { 'application/x-asciicast': { schema: Type.String() } },
};

export function sessionView(s: SessionRecord): Session {
  return {
    id: s.id,
    system_id: s.systemId,
    opened_by: s.openedBy,
    run_as: s.runAs,
    criteria: s.criteria,
    selector: s.selector,
    custom: s.custom,
    state: s.state,
    end_reason: s.endReason,
    end_message: s.endMessage,
    ended_by: s.endedBy,
    exit_code: s.exitCode,
    signal: s.signal,
    pty: s.pty,
    notice: s.notice,
    record_input: s.recordInput,
    idle_timeout_s: s.idleTimeoutS,
    max_duration_s: s.maxDurationS,
    created_at: s.createdAt,
    started_at: s.startedAt,
    ended_at: s.endedAt,
  };
}

function candidateView(s: SystemRecord): SessionCandidate {
  return {
    id: s.id,
    name: s.displayName,
    hostname: s.hostname,
    tags: s.tags,
    comments: s.description,
    private_ips: s.ipAddresses,
    public_ip: s.publicIp,
    connected: s.connected,
  };
}

/** /v1/sessions: interactive shells on systems, opened by id, selector or criteria, and their attach socket. */
export function sessionRoutes(app: FastifyInstance, { core }: NativeDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();
  const tags = ['sessions'];

  api.post(
    '/sessions',
    {
      schema: {
        tags,
        summary: 'Open a shell on a system (operator); several matches answer 409 with the candidates',
        body: OpenSessionBody,
        response: answers({ 201: Session, 409: AmbiguousSession }),
      },
    },
    async (req, reply) => {
      const opened = await core.sessions.open(actorOf(req), req.body);
      if (opened.outcome === 'opened') return reply.status(201).send(sessionView(opened.session));
      const message = `${opened.candidates.length} systems match; choose one and open again with its system_id`;
      return reply.status(409).send({ error: { code: 'CONFLICT', message, request_id: req.id, candidates: opened.candidates.map(candidateView) } });
    },
  );

  api.get(
    '/sessions',
    { schema: { tags, summary: 'List sessions, newest first', querystring: SessionListQuery, response: answers({ 200: SessionList }) } },
    async (req) => ({
      items: (
        await core.sessions.list(actorOf(req), {
          ...(req.query.state ? { state: req.query.state } : {}),
          ...(req.query.limit ? { limit: Number(req.query.limit) } : {}),
        })
      ).map(sessionView),
    }),
  );

  api.get(
    '/session-settings',
    { schema: { tags, summary: "The organization's session settings", response: answers({ 200: SessionSettings }) } },
    async (req) => {
      const s = await core.sessions.settings(actorOf(req));
      return { record_input: s.recordInput, custom_fields: s.customFields };
    },
  );

  api.put(
    '/session-settings',
    {
      config: { role: 'admin' },
      schema: { tags, summary: "Change the organization's session settings (admin)", body: SessionSettings, response: answers({ 200: SessionSettings }) },
    },
    async (req) => {
      const s = await core.sessions.changeSettings(actorOf(req), { recordInput: req.body.record_input, customFields: req.body.custom_fields });
      return { record_input: s.recordInput, custom_fields: s.customFields };
    },
  );

  api.get('/sessions/:id', { schema: { tags, summary: 'One session', params: IdParams, response: answers({ 200: Session }) } }, async (req) =>
    sessionView(await core.sessions.get(actorOf(req), req.params.id)),
  );

  api.post(
    '/sessions/:id/end',
    { schema: { tags, summary: "End a session (operator: one's own; admin: anyone's)", params: IdParams, response: answers({ 200: Session }) } },
    async (req) => sessionView(await core.sessions.end(actorOf(req), req.params.id)),
  );

  api.get(
    '/sessions/:id/recording',
    { schema: { tags, summary: "The session's recording (asciicast v2)", params: IdParams, response: answers({ 200: Recording }) } },
    async (req, reply) => {
      const cast = await core.sessions.recording(actorOf(req), req.params.id);
      return reply
        .header('content-type', 'application/x-asciicast')
        .header('content-disposition', `attachment; filename="session-${req.params.id}.cast"`)
        .send(cast);
    },
  );

  api.post(
    '/sessions/:id/attach-ticket',
    {
      schema: {
        tags,
        summary: 'A single-use ticket to attach to the session within 30 seconds, for clients whose WebSocket cannot send headers (browsers)',
        params: IdParams,
        response: answers({ 201: AttachTicket }),
      },
    },
    async (req, reply) => {
      const issued = await core.sessions.issueAttachTicket(actorOf(req), req.params.id);
      return reply.status(201).send({ ticket: issued.ticket, expires_at: issued.expiresAt });
    },
  );

  // A GET, but it types into a shell: operators (and the session's opener, or an admin, as core checks).
  // Without a key, `?ticket=` (from attach-ticket) stands for the key that minted it; without either, 401 as before.
  const auth: RouteAuthConfig = { role: 'operator', anonymous: true };
  app.get(
    '/sessions/:id/attach',
    {
      websocket: true,
      config: auth as object,
      onRequest: async (req) => {
        if (req.caller) return;
        const ticket = (req.query as { ticket?: unknown }).ticket;
        if (typeof ticket !== 'string' || ticket === '') throw new MusterError('UNAUTHENTICATED', API_KEY_REQUIRED);
        const actor = await core.sessions.redeemAttachTicket(ticket, (req.params as { id: string }).id);
        if (!actor) throw new MusterError('UNAUTHENTICATED', 'the attach ticket is unknown, used, expired or for another session');
        req.caller = actor;
      },
      schema: {
        tags,
        summary:
          'The terminal (WebSocket): binary frames are terminal bytes both ways; text frames are JSON control (resize in; notice and exit out). Authenticate with the API key, or with ?ticket= from attach-ticket',
        params: IdParams,
      },
    },
    (socket: WebSocket, req: FastifyRequest) => attachSocket(core, socket, req),
  );
}

/** Wires a viewer's WebSocket to a session: bytes through, resize in, exit status out, then close. */
function attachSocket({ sessions }: NativeDeps['core'], socket: WebSocket, req: FastifyRequest): void {
  const id = (req.params as { id: string }).id;
  const early: Array<(a: Attachment) => void> = [];
  let attachment: Attachment | undefined;
  const control = (m: AttachControl | { type: 'error'; code: string; message: string }) => socket.send(JSON.stringify(m));
  const viewer: SessionViewer = {
    write: (data, taken) => socket.send(data, { binary: true }, () => taken()),
    event: (e) => control(e),
    close: (code, reason) => socket.close(code, reason.slice(0, 120)),
  };
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    const apply = (a: Attachment) => {
      if (isBinary) return a.input(data);
      try {
        const m = JSON.parse(data.toString()) as Partial<AttachControl>;
        if (m.type === 'resize' && Number.isInteger(m.cols) && Number.isInteger(m.rows) && m.cols! >= 1 && m.rows! >= 1 && m.cols! <= 1000 && m.rows! <= 1000)
          a.resize(m.cols!, m.rows!);
      } catch {
        // Not JSON: ignored, as the protocol says text frames are control.
      }
    };
    if (attachment) apply(attachment);
    else early.push(apply);
  });
  socket.on('close', () => attachment?.detach());
  sessions.attach(actorOf(req), id, viewer).then(
    ({ attachment: a }) => {
      req.log.info({ session_id: id }, 'viewer attached');
      attachment = a;
      for (const fn of early.splice(0)) fn(a);
      if (socket.readyState !== socket.OPEN) a.detach();
    },
    (err: unknown) => {
      const e = classify(err);
      control({ type: 'error', code: e?.code ?? 'INTERNAL', message: e?.message ?? 'internal error' });
      socket.close(4000 + (e ? STATUS[e.code] : 500), isMusterError(err) ? err.code : 'INTERNAL');
    },
  );
}
