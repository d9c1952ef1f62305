import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/**
 * Agent ⇄ server messages over the WebSocket at /agent/v1/connect. Every message
 * is a JSON object with `v` (protocol version) and `type`; both ends validate
 * every message they receive against the schema of its type.
 */
export const PROTOCOL_VERSION = 1;

export const SHELLS = ['bash', 'sh', 'zsh', 'python3', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

const V = Type.Literal(PROTOCOL_VERSION);
const RunId = Type.String({ pattern: '^\\w{1,64}$' });
const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });
const Stream = Type.Union([Type.Literal('stdout'), Type.Literal('stderr')]);

/** Basic facts an agent reports about its machine. */
export const AgentFacts = Type.Object({
  hostname: Type.String({ maxLength: 255 }),
  os: Type.String({ maxLength: 64 }),
  os_release: Type.String({ maxLength: 128 }),
  arch: Type.String({ maxLength: 32 }),
  kernel: Type.Optional(Type.String({ maxLength: 256 })),
  cpus: Type.Optional(Type.Integer({ minimum: 0 })),
  memory_bytes: Type.Optional(Type.Number({ minimum: 0 })),
  uptime_s: Type.Optional(Type.Number({ minimum: 0 })),
  ip_addresses: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }),
  /** The interface each address is on; optional, so agents that predate it still validate. */
  interfaces: Type.Optional(Type.Array(Type.Object({ name: Type.String({ maxLength: 64 }), address: Type.String({ maxLength: 64 }) }), { maxItems: 64 })),
  agent_version: Type.String({ maxLength: 64 }),
});
export type AgentFacts = Static<typeof AgentFacts>;

// ── agent → server ────────────────────────────────────────────────────────────

/** First message after connecting: who I am, and which runs I already know. */
export const Hello = Type.Object({
  v: V,
  type: Type.Literal('hello'),
  facts: AgentFacts,
  /** Runs this agent has started and not yet finished (so the server does not redeliver them). */
  active_run_ids: Type.Array(RunId, { maxItems: 10_000 }),
});

/** The agent has accepted a run and started its process. */
export const RunStarted = Type.Object({
  v: V,
  type: Type.Literal('run.started'),
  run_id: RunId,
  started_at: Timestamp,
});

/** A piece of a run's output, in order per run (`seq` counts from 0 across both streams). */
export const RunOutput = Type.Object({
  v: V,
  type: Type.Literal('run.output'),
  run_id: RunId,
  seq: Type.Integer({ minimum: 0 }),
  stream: Stream,
  data: Type.String({ maxLength: 256 * 1024 }),
});

/**
 * The final result. Output is the captured tail of each stream (the agent caps
 * it, the server caps it again); a truncated flag says the head was dropped.
 */
export const RunResult = Type.Object({
  v: V,
  type: Type.Literal('run.result'),
  run_id: RunId,
  outcome: Type.Union([
    Type.Literal('exited'),
    Type.Literal('signaled'),
    Type.Literal('timed_out'),
    Type.Literal('cancelled'),
    Type.Literal('failed_to_start'),
    Type.Literal('lost'),
  ]),
  exit_code: Type.Union([Type.Integer(), Type.Null()]),
  signal: Type.Union([Type.String({ maxLength: 16 }), Type.Null()]),
  started_at: Type.Union([Timestamp, Type.Null()]),
  finished_at: Timestamp,
  stdout: Type.String(),
  stderr: Type.String(),
  stdout_truncated: Type.Boolean(),
  stderr_truncated: Type.Boolean(),
  /** Human explanation for outcomes other than `exited` (e.g. "shell zsh not found"). */
  error: Type.Union([Type.String({ maxLength: 4096 }), Type.Null()]),
});

export const Pong = Type.Object({ v: V, type: Type.Literal('pong'), id: Type.Integer() });

/** Fresh facts, sent periodically on an open connection (additive in protocol 1: a server without it answers `error`). */
export const FactsReport = Type.Object({ v: V, type: Type.Literal('facts'), facts: AgentFacts });

// ── sessions (interactive shells), both ways ─────────────────────────────────
//
// Terminal bytes travel base64-encoded (a PTY's output is bytes, not always
// whole UTF-8 characters). Output is credit-based: the agent may have at most
// `window` bytes of a session's output sent and not yet credited back; the
// server credits bytes once its viewer's socket has taken them. A slow viewer
// therefore stops the credits, the agent stops reading the PTY, and the shell
// blocks on its own writes: nobody buffers without bound.

/** Output bytes per `session.output` message at most. */
export const SESSION_CHUNK_BYTES = 16 * 1024;
/** The default output window: bytes in flight per session before the agent waits for credit. */
export const SESSION_WINDOW_BYTES = 256 * 1024;
const SessionId = Type.String({ pattern: '^\\w{1,64}$' });
const Cols = Type.Integer({ minimum: 1, maximum: 1000 });
const Rows = Type.Integer({ minimum: 1, maximum: 1000 });
const Bytes = Type.String({ maxLength: 4 * Math.ceil(SESSION_CHUNK_BYTES / 3) });

/** agent → server: the shell of a session started (`pty` false: a pipe-based shell, `notice` says why). */
export const SessionOpened = Type.Object({
  v: V,
  type: Type.Literal('session.opened'),
  session_id: SessionId,
  pty: Type.Boolean(),
  notice: Type.Union([Type.String({ maxLength: 4096 }), Type.Null()]),
});
/** agent → server: terminal output, in order per session (`seq` counts from 0), base64. */
export const SessionOutput = Type.Object({
  v: V,
  type: Type.Literal('session.output'),
  session_id: SessionId,
  seq: Type.Integer({ minimum: 0 }),
  data: Bytes,
});
/** agent → server: the shell is gone (or never started: `error` says why). Sent once, after the last output. */
export const SessionExit = Type.Object({
  v: V,
  type: Type.Literal('session.exit'),
  session_id: SessionId,
  exit_code: Type.Union([Type.Integer(), Type.Null()]),
  signal: Type.Union([Type.String({ maxLength: 16 }), Type.Null()]),
  error: Type.Union([Type.String({ maxLength: 4096 }), Type.Null()]),
});
/** server → agent: start a shell for this session, as `run_as` (null: the agent's own user). */
export const SessionOpen = Type.Object({
  v: V,
  type: Type.Literal('session.open'),
  session_id: SessionId,
  run_as: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  cols: Cols,
  rows: Rows,
  /** Output bytes the agent may send before its first credit. */
  window: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024 }),
});
/** server → agent: keystrokes (base64). */
export const SessionInput = Type.Object({ v: V, type: Type.Literal('session.input'), session_id: SessionId, data: Bytes });
export const SessionResize = Type.Object({ v: V, type: Type.Literal('session.resize'), session_id: SessionId, cols: Cols, rows: Rows });
/** server → agent: this many more output bytes have reached the viewer. */
export const SessionCredit = Type.Object({ v: V, type: Type.Literal('session.credit'), session_id: SessionId, bytes: Type.Integer({ minimum: 1 }) });
/** server → agent: end the session: its shell's whole process group is killed. */
export const SessionClose = Type.Object({ v: V, type: Type.Literal('session.close'), session_id: SessionId, reason: Type.String({ maxLength: 1024 }) });

// ── server → agent ────────────────────────────────────────────────────────────

/** Run this script now (at most once per run id, however often it is delivered). */
export const RunDeliver = Type.Object({
  v: V,
  type: Type.Literal('run.deliver'),
  run_id: RunId,
  job_id: RunId,
  shell: Type.Union([Type.Literal('bash'), Type.Literal('sh'), Type.Literal('zsh'), Type.Literal('python3'), Type.Literal('powershell')]),
  content: Type.String(),
  env: Type.Record(Type.String(), Type.String()),
  timeout_s: Type.Integer({ minimum: 1 }),
  run_as: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
});

/** The server has stored this run's result: the agent may forget it. */
export const RunAck = Type.Object({ v: V, type: Type.Literal('run.ack'), run_id: RunId });

/** Stop this run (its whole process group) and report it cancelled. */
export const RunCancel = Type.Object({ v: V, type: Type.Literal('run.cancel'), run_id: RunId });

export const Ping = Type.Object({ v: V, type: Type.Literal('ping'), id: Type.Integer() });

/** The server refuses something the agent sent; the agent logs it. */
export const ProtocolError = Type.Object({
  v: V,
  type: Type.Literal('error'),
  message: Type.String({ maxLength: 4096 }),
});

export type Hello = Static<typeof Hello>;
export type RunStarted = Static<typeof RunStarted>;
export type RunOutput = Static<typeof RunOutput>;
export type RunResult = Static<typeof RunResult>;
export type Pong = Static<typeof Pong>;
export type FactsReport = Static<typeof FactsReport>;
export type RunDeliver = Static<typeof RunDeliver>;
export type RunAck = Static<typeof RunAck>;
export type RunCancel = Static<typeof RunCancel>;
export type Ping = Static<typeof Ping>;
export type ProtocolError = Static<typeof ProtocolError>;
export type SessionOpened = Static<typeof SessionOpened>;
export type SessionOutput = Static<typeof SessionOutput>;
export type SessionExit = Static<typeof SessionExit>;
export type SessionOpen = Static<typeof SessionOpen>;
export type SessionInput = Static<typeof SessionInput>;
export type SessionResize = Static<typeof SessionResize>;
export type SessionCredit = Static<typeof SessionCredit>;
export type SessionClose = Static<typeof SessionClose>;

export type AgentMessage = Hello | RunStarted | RunOutput | RunResult | Pong | FactsReport | SessionOpened | SessionOutput | SessionExit;
export type ServerMessage = RunDeliver | RunAck | RunCancel | Ping | ProtocolError | SessionOpen | SessionInput | SessionResize | SessionCredit | SessionClose;

type Validator = ReturnType<typeof Compile<TSchema>>;

function table(schemas: TSchema[]): Map<string, Validator> {
  const out = new Map<string, Validator>();
  for (const schema of schemas) {
    const type = (schema as { properties: { type: { const: string } } }).properties.type.const;
    out.set(type, Compile(schema));
  }
  return out;
}

const AGENT_MESSAGES = table([Hello, RunStarted, RunOutput, RunResult, Pong, FactsReport, SessionOpened, SessionOutput, SessionExit]);
const SERVER_MESSAGES = table([RunDeliver, RunAck, RunCancel, Ping, ProtocolError, SessionOpen, SessionInput, SessionResize, SessionCredit, SessionClose]);

export type Decoded<T> = { ok: true; message: T } | { ok: false; error: string };

function decode<T>(raw: string, validators: Map<string, Validator>): Decoded<T> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'message is not JSON' };
  }
  if (typeof value !== 'object' || value === null) return { ok: false, error: 'message is not an object' };
  const { v, type } = value as { v?: unknown; type?: unknown };
  if (v !== PROTOCOL_VERSION) return { ok: false, error: `unsupported protocol version ${String(v)}` };
  const validator = typeof type === 'string' ? validators.get(type) : undefined;
  if (!validator) return { ok: false, error: `unknown message type ${String(type)}` };
  if (!validator.Check(value)) {
    const first = [...validator.Errors(value)][0];
    const where = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : type;
    return { ok: false, error: `${String(type)}: ${where} ${first?.message ?? 'is invalid'}` };
  }
  return { ok: true, message: value as T };
}

/** Parses and validates a message the server received from an agent. */
export function decodeAgentMessage(raw: string): Decoded<AgentMessage> {
  return decode<AgentMessage>(raw, AGENT_MESSAGES);
}

/** Parses and validates a message the agent received from the server. */
export function decodeServerMessage(raw: string): Decoded<ServerMessage> {
  return decode<ServerMessage>(raw, SERVER_MESSAGES);
}

/** A message without its version stamp, as senders write it (`encode` adds `v`). */
export type Unversioned<T> = T extends unknown ? Omit<T, 'v'> : never;

/** Serializes a message, stamping the protocol version. */
export function encode(message: Unversioned<AgentMessage | ServerMessage>): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, ...message });
}

/** What every run.deliver of one job (and one environment) shares: all but the run id. */
export type RunDeliverShared = Omit<Unversioned<RunDeliver>, 'type' | 'run_id'>;

/**
 * An encoder of run.deliver messages that differ only in their run id: the
 * shared part (script, environment) is serialised once, then each message is
 * two concatenations. Gives exactly `encode`'s text.
 */
export function runDeliverEncoder(shared: RunDeliverShared): (runId: string) => string {
  const { job_id, shell, content, env, timeout_s, run_as } = shared;
  // Same key order as encode({ type, run_id, ...shared }).
  const tail = JSON.stringify({ job_id, shell, content, env, timeout_s, run_as }).slice(1);
  return (runId) => `{"v":${PROTOCOL_VERSION},"type":"run.deliver","run_id":${JSON.stringify(runId)},${tail}`;
}

/** `encode({ type: 'run.ack', run_id })`, without building the object. */
export function encodeRunAck(runId: string): string {
  return `{"v":${PROTOCOL_VERSION},"type":"run.ack","run_id":${JSON.stringify(runId)}}`;
}
