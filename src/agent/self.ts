import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { bodyDigest, httpDate, signRequest } from '../auth/http-signature.js';
import { CONF_FILE, JC_CONF_LINK, KEY_FILE, loadIdentity, type AgentIdentity } from './state.js';

/**
 * The agent's own use of the System Context API: every request is signed with
 * the system's key (keyId="system/<id>"), over the request target, host, date,
 * body digest and a nonce (so two identical changes in one second are not
 * mistaken for a replay of each other).
 */
export class SelfClient {
  readonly identity: AgentIdentity;
  private readonly privateKeyPem: string;

  constructor(
    readonly stateDir: string,
    private readonly timeoutMs = 30_000,
  ) {
    const loaded = loadIdentity(stateDir);
    this.identity = loaded.identity;
    this.privateKeyPem = loaded.privateKeyPem;
  }

  /** This system's record (JumpCloud v1 shape). */
  async get(): Promise<Record<string, unknown>> {
    return (await this.request('GET', `/api/systems/${this.identity.systemKey}`)) as Record<string, unknown>;
  }

  /** Changes display name, description, tags or attributes (JumpCloud field names). */
  async update(patch: Record<string, unknown>): Promise<Record<string, unknown>> {
    return (await this.request('PUT', `/api/systems/${this.identity.systemKey}`, patch)) as Record<string, unknown>;
  }

  /** Joins or leaves a group, named by id or name. */
  async membership(group: string, op: 'add' | 'remove'): Promise<void> {
    await this.request('POST', `/api/v2/systemgroups/${encodeURIComponent(group)}/members`, { op, type: 'system', id: this.identity.systemKey });
  }

  /** The groups this system belongs to. */
  async groups(): Promise<Array<{ id: string }>> {
    return (await this.request('GET', `/api/v2/systems/${this.identity.systemKey}/memberof`)) as Array<{ id: string }>;
  }

  /** Deletes this system from the server, then its identity from the state dir (unless `keepState`). */
  async deregister(keepState = false): Promise<void> {
    await this.request('DELETE', `/api/systems/${this.identity.systemKey}`);
    if (!keepState) {
      rmSync(join(this.stateDir, CONF_FILE), { force: true });
      rmSync(join(this.stateDir, JC_CONF_LINK), { force: true });
      rmSync(join(this.stateDir, KEY_FILE), { force: true });
    }
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = new URL(path, `${this.identity.server}/`);
    const payload = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = {
      host: url.host,
      date: httpDate(new Date()),
      digest: bodyDigest(payload),
      'x-muster-nonce': randomBytes(12).toString('hex'),
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    headers.authorization = signRequest({
      keyId: `system/${this.identity.systemKey}`,
      privateKeyPem: this.privateKeyPem,
      request: { method, path: url.pathname + url.search, headers },
      headers: ['(request-target)', 'host', 'date', 'digest', 'x-muster-nonce'],
    });
    const { host: _host, ...sent } = headers;
    let res: Response;
    try {
      res = await fetch(url, { method, headers: sent, ...(body === undefined ? {} : { body: payload }), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new Error(
        `cannot reach the muster server at ${this.identity.server}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: show the text
      }
      throw new Error(`the server refused ${method} ${url.pathname} (HTTP ${res.status}): ${message}`);
    }
    return text === '' ? undefined : JSON.parse(text);
  }
}
