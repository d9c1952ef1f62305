import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import WebSocket from 'ws';
import { httpDate, signRequest } from '../../src/auth/http-signature.js';
import { decodeServerMessage, encode, type ServerMessage, type Unversioned, type AgentMessage } from '../../src/protocol/messages.js';

/**
 * A scripted agent peer for server tests: it speaks the real protocol over a
 * real WebSocket with a real signature, but runs nothing: the test decides
 * what it answers. (End-to-end tests use the real agent.)
 */
export class FakeAgent {
  readonly received: ServerMessage[] = [];
  private waiters: Array<{ match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }> = [];
  socket: WebSocket | undefined;

  constructor(
    readonly base: string,
    readonly systemId: string,
    readonly privateKeyPem: string,
    readonly hostname = 'fake',
  ) {}

  /** Enrolls a new system with a fresh RSA key. */
  static async enroll(base: string, enrollmentKey: string, hostname = 'fake-1'): Promise<FakeAgent> {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const res = await fetch(`${base}/agent/v1/enroll`, {
      method: 'POST',
      headers: { authorization: `Bearer ${enrollmentKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ public_key: publicKey.export({ type: 'spki', format: 'pem' }), facts: facts(hostname) }),
    });
    const body = (await res.json()) as { system_id: string };
    if (res.status !== 201) throw new Error(`enroll failed: ${res.status} ${JSON.stringify(body)}`);
    return new FakeAgent(base, body.system_id, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), hostname);
  }

  /** The headers of a signed upgrade request. */
  signedHeaders(date = new Date()): { date: string; 'x-muster-nonce': string; authorization: string } {
    const d = httpDate(date);
    // RSA PKCS#1 v1.5 signatures are deterministic: a nonce keeps two connects in one second distinct.
    const nonce = randomBytes(12).toString('hex');
    const authorization = signRequest({
      keyId: `system/${this.systemId}`,
      privateKeyPem: this.privateKeyPem,
      request: { method: 'GET', path: '/agent/v1/connect', headers: { date: d, 'x-muster-nonce': nonce } },
      headers: ['request-line', 'date', 'x-muster-nonce'],
    });
    return { date: d, 'x-muster-nonce': nonce, authorization };
  }

  /** Opens the WebSocket with the given headers; resolves on open, rejects with the HTTP status on refusal. */
  async connect(headers: Record<string, string> = this.signedHeaders(), activeRunIds: string[] = []): Promise<void> {
    const socket = new WebSocket(`${this.base.replace(/^http/, 'ws')}/agent/v1/connect`, { headers });
    socket.on('message', (data) => {
      const decoded = decodeServerMessage(data.toString());
      if (!decoded.ok) throw new Error(decoded.error);
      this.received.push(decoded.message);
      this.waiters = this.waiters.filter((w) => (w.match(decoded.message) ? (w.resolve(decoded.message), false) : true));
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      socket.once('error', reject);
    });
    this.socket = socket;
    this.send({ type: 'hello', facts: facts(this.hostname), active_run_ids: activeRunIds });
  }

  send(message: Unversioned<AgentMessage>): void {
    this.socket!.send(encode(message));
  }

  /** Resolves with the first message (already received or future) that matches. */
  next<T extends ServerMessage['type']>(
    type: T,
    match: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const test = (m: ServerMessage) => m.type === type && match(m as Extract<ServerMessage, { type: T }>);
    const seen = this.received.find(test);
    if (seen) return Promise.resolve(seen as Extract<ServerMessage, { type: T }>);
    return new Promise((resolve) => this.waiters.push({ match: test, resolve: resolve as (m: ServerMessage) => void }));
  }

  async close(): Promise<void> {
    if (!this.socket || this.socket.readyState === WebSocket.CLOSED) return;
    const closed = once(this.socket, 'close');
    this.socket.close();
    await closed;
  }
}

export function facts(hostname: string) {
  return { hostname, os: 'linux', os_release: 'Test OS 1', arch: 'x64', ip_addresses: ['127.0.0.1'], agent_version: '0.0.0-test' };
}
