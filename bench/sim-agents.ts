import { createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { httpDate, signingString } from '../src/auth/http-signature.js';
import { decodeServerMessage, encode, type AgentMessage, type Unversioned } from '../src/protocol/messages.js';

/**
 * Simulated agents for `npm run bench -- fanout`, in their own process (forked
 * with an IPC channel by bench/sim-pool.ts). Each holds one WebSocket to
 * /agent/v1/connect, signed with its own Ed25519 key like the real agent, sends
 * the real `hello`, answers every `run.deliver` at once with `run.started`
 * and a `run.result` (no shell), and answers pings. Every server message is validated with the
 * protocol schema, as the real agent does.
 */

/** One enrolled system: its id and its PKCS#8 PEM private key. */
export interface SimSystem {
  id: string;
  key: string;
}

export type SimCommand =
  | { type: 'init'; url: string; file: string; firstAddress: number; perAddress: number }
  | { type: 'connect'; upTo: number; concurrency: number }
  | { type: 'stats' }
  | { type: 'close' };

export interface SimStats {
  open: number;
  connectFailed: number;
  delivered: number;
  results: number;
  acked: number;
  invalid: number;
  cpuMs: number;
  rssBytes: number;
}

const FACTS = { os: 'linux', os_release: 'Bench OS 1', arch: 'x64', ip_addresses: ['127.0.0.1'], agent_version: '0.0.0-bench' };

const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Past this many refused connects, stop trying: the server is at its limit (this is how the idle capacity is found). */
const GIVE_UP_AFTER = 200;

let url = '';
let systems: SimSystem[] = [];
let firstAddress = 2;
let perAddress = 10_000;
const sockets: Array<WebSocket | undefined> = [];
const keys = new Map<number, KeyObject>();
const stats = { open: 0, connectFailed: 0, delivered: 0, results: 0, acked: 0, invalid: 0 };

function send(socket: WebSocket, message: Unversioned<AgentMessage>): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(encode(message));
}

/** The signed upgrade headers, exactly as src/agent/server-link.ts builds them. */
function signedHeaders(i: number): Record<string, string> {
  const sys = systems[i]!;
  let key = keys.get(i);
  if (!key) keys.set(i, (key = createPrivateKey(sys.key)));
  const date = httpDate(new Date());
  const nonce = randomBytes(12).toString('hex');
  const headers = ['request-line', 'date', 'x-muster-nonce'];
  const data = signingString(headers, { method: 'GET', path: '/agent/v1/connect', headers: { date, 'x-muster-nonce': nonce } });
  const signature = sign(null, Buffer.from(data), key).toString('base64');
  return {
    date,
    'x-muster-nonce': nonce,
    authorization: `Signature keyId="system/${sys.id}",headers="${headers.join(' ')}",algorithm="ed25519",signature="${signature}"`,
  };
}

function onMessage(socket: WebSocket, raw: WebSocket.RawData): void {
  const decoded = decodeServerMessage(raw.toString());
  if (!decoded.ok) {
    stats.invalid++;
    return;
  }
  const m = decoded.message;
  if (m.type === 'run.deliver') {
    stats.delivered++;
    const now = new Date().toISOString();
    // As the real agent: run.started, then (no output from `true`) run.result.
    send(socket, { type: 'run.started', run_id: m.run_id, started_at: now });
    send(socket, {
      type: 'run.result',
      run_id: m.run_id,
      outcome: 'exited',
      exit_code: 0,
      signal: null,
      started_at: now,
      finished_at: now,
      stdout: '',
      stderr: '',
      stdout_truncated: false,
      stderr_truncated: false,
      error: null,
    });
    stats.results++;
  } else if (m.type === 'run.ack') stats.acked++;
  else if (m.type === 'ping') send(socket, { type: 'pong', id: m.id });
}

/** Opens agent i's socket and says hello; resolves once open (or refused). */
function connectOne(i: number): Promise<void> {
  const localAddress = `127.0.0.${firstAddress + Math.floor(i / perAddress)}`;
  // A server out of file descriptors leaves the connection in its backlog, never answering the upgrade.
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/agent/v1/connect`, {
    headers: signedHeaders(i),
    localAddress,
    perMessageDeflate: false,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });
  return new Promise((resolve) => {
    socket.once('open', () => {
      sockets[i] = socket;
      stats.open++;
      send(socket, { type: 'hello', facts: { ...FACTS, hostname: `sim-${i}` }, active_run_ids: [] });
      resolve();
    });
    socket.on('message', (raw) => onMessage(socket, raw));
    socket.on('close', () => {
      if (sockets[i] === socket) {
        sockets[i] = undefined;
        stats.open--;
      }
      resolve();
    });
    socket.on('error', () => {
      if (sockets[i] !== socket) stats.connectFailed++;
      resolve();
    });
  });
}

async function connect(upTo: number, concurrency: number): Promise<void> {
  let next = sockets.length;
  const target = Math.min(upTo, systems.length);
  const worker = async () => {
    while (next < target && stats.connectFailed < GIVE_UP_AFTER) await connectOne(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function snapshot(): SimStats {
  const cpu = process.cpuUsage();
  return { ...stats, cpuMs: (cpu.user + cpu.system) / 1000, rssBytes: process.memoryUsage.rss() };
}

process.on('message', (cmd: SimCommand) => {
  void (async () => {
    switch (cmd.type) {
      case 'init':
        url = cmd.url;
        systems = JSON.parse(readFileSync(cmd.file, 'utf8')) as SimSystem[];
        firstAddress = cmd.firstAddress;
        perAddress = cmd.perAddress;
        process.send!({ type: 'ready' });
        return;
      case 'connect':
        await connect(cmd.upTo, cmd.concurrency);
        process.send!({ type: 'connected', stats: snapshot() });
        return;
      case 'stats':
        process.send!({ type: 'stats', stats: snapshot() });
        return;
      case 'close':
        for (const s of sockets) s?.terminate();
        process.exit(0);
    }
  })();
});
