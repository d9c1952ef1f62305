import { generateKeyPairSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentFacts } from '../protocol/messages.js';
import { commitFile, prepareFile } from './atomic-file.js';
import { collectFacts } from './facts.js';
import { CONF_FILE, ensureCompatLink, ensureStateDir, identityFileContent, isEnrolled, KEY_FILE, type AgentIdentity } from './state.js';

export interface EnrollOptions {
  /** The server's base URL (http:// or https://). */
  server: string;
  /**
   * Every address of the server, `server` first (replicas, or a load balancer
   * and replicas): enrollment uses the first that answers, and the agent
   * moves to the next when one cannot be reached.
   */
  servers?: string[];
  enrollmentKey: string;
  stateDir: string;
  tags: string[];
  /** Replace an existing enrollment (this machine becomes a new system). */
  force: boolean;
  /** Facts to send; the machine's own by default. */
  facts?: AgentFacts;
  /** How long to wait for the server (default 30 s). */
  timeoutMs?: number;
}

type EnrollAnswer = { system_id?: unknown; organization_id?: unknown; error?: { code?: string; message?: string } };

/**
 * Registers this machine: a fresh RSA-2048 key pair (the private key never
 * leaves the state dir), the public key and basic facts sent with the
 * enrollment key. The key is written (to a temporary file, which also proves
 * the state dir is writable before the server creates a system) ahead of the
 * request, and nothing is put in place until the server accepted, so a
 * failure leaves no half enrollment.
 */
export async function enrollAgent(options: EnrollOptions): Promise<AgentIdentity> {
  const confPath = join(options.stateDir, CONF_FILE);
  if (isEnrolled(options.stateDir) && !options.force) {
    throw new Error(`this machine is already enrolled (${confPath} exists); use --force to enroll again as a new system`);
  }
  const servers = [...new Set([options.server, ...(options.servers ?? [])].map((s) => s.replace(/\/+$/, '')))];
  for (const [i, server] of servers.entries())
    if (!/^https?:\/\/[^/]/.test(server))
      throw new Error(`--server must be an http:// or https:// URL, not ${JSON.stringify(i === 0 ? options.server : server)}`);
  ensureStateDir(options.stateDir);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  // PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"), which every openssl reads for `dgst -sign`.
  const keyPath = join(options.stateDir, KEY_FILE);
  const keyTmp = prepareFile(keyPath, privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), 0o600);
  try {
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const identity = { ...(await registerWithFirst(servers, options, publicKeyPem)), ...(servers.length > 1 ? { servers } : {}) };
    const confTmp = prepareFile(confPath, identityFileContent(identity), 0o600);
    commitFile(keyTmp, keyPath);
    commitFile(confTmp, confPath);
    ensureCompatLink(options.stateDir);
    return identity;
  } finally {
    rmSync(keyTmp, { force: true });
  }
}

/** Registers with the first server that can be reached; one that answers with a refusal ends it (the next would refuse too). */
async function registerWithFirst(servers: string[], options: EnrollOptions, publicKeyPem: string): Promise<AgentIdentity> {
  const unreachable: string[] = [];
  for (const server of servers) {
    try {
      return { ...(await register(server, options, publicKeyPem)), server: servers[0]! };
    } catch (err) {
      if (!(err instanceof Unreachable)) throw err;
      unreachable.push(err.message);
    }
  }
  throw new Error(unreachable.join('; '));
}

class Unreachable extends Error {}

async function register(server: string, options: EnrollOptions, publicKeyPem: string): Promise<AgentIdentity> {
  let res: Response;
  try {
    res = await fetch(`${server}/agent/v1/enroll`, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.enrollmentKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ public_key: publicKeyPem, facts: options.facts ?? collectFacts(), tags: options.tags }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (err) {
    const reason = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new Unreachable(`cannot reach the muster server at ${server}: ${reason}`);
  }
  const body = (await res.json().catch(() => ({}))) as EnrollAnswer;
  if (res.status !== 201 || typeof body.system_id !== 'string' || !/^\w{1,64}$/.test(body.system_id)) {
    const reason = body.error?.message ?? `unexpected answer (HTTP ${res.status}) from ${server}/agent/v1/enroll`;
    throw new Error(`the server refused the enrollment: ${reason}`);
  }
  return { systemKey: body.system_id, server, organizationId: typeof body.organization_id === 'string' ? body.organization_id : '' };
}
