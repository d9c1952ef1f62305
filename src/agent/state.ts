import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What `agent enroll` leaves in the state dir, in agent.conf. */
export interface AgentIdentity {
  systemKey: string;
  server: string;
  organizationId: string;
}

export const CONF_FILE = 'agent.conf';
export const KEY_FILE = 'client.key';

/** True when the state dir holds an enrollment (agent.conf). */
export function isEnrolled(stateDir: string): boolean {
  return existsSync(join(stateDir, CONF_FILE));
}

/** Creates the state dir, readable by its owner only (it holds the private key). */
export function ensureStateDir(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
}

/**
 * agent.conf's content. Compact JSON on purpose: JumpCloud's System Context
 * script extracts the id with the bash regex `systemKey\":\"(\w+)\"`, which a
 * space after the colon would defeat.
 */
export function identityFileContent(identity: AgentIdentity): string {
  return `${JSON.stringify({ systemKey: identity.systemKey, server: identity.server, organizationId: identity.organizationId })}\n`;
}

function damaged(path: string, why: string): Error {
  return new Error(`${path} is damaged (${why}): enroll again with \`muster agent enroll --force\``);
}

/** Reads agent.conf and client.key; throws a message telling what to do when absent or damaged. */
export function loadIdentity(stateDir: string): { identity: AgentIdentity; privateKeyPem: string } {
  const confPath = join(stateDir, CONF_FILE);
  const keyPath = join(stateDir, KEY_FILE);
  if (!isEnrolled(stateDir)) throw new Error(`this machine is not enrolled (no ${confPath}): run \`muster agent enroll\` first`);
  let identity: AgentIdentity;
  try {
    identity = JSON.parse(readFileSync(confPath, 'utf8')) as AgentIdentity;
  } catch (err) {
    throw damaged(confPath, (err as Error).message);
  }
  if (!/^\w{1,64}$/.test(identity.systemKey ?? '')) throw damaged(confPath, 'no valid systemKey');
  if (!/^https?:\/\//.test(identity.server ?? '')) throw damaged(confPath, 'no valid server URL');
  let privateKeyPem: string;
  try {
    privateKeyPem = readFileSync(keyPath, 'utf8');
    createPrivateKey(privateKeyPem);
  } catch (err) {
    throw damaged(keyPath, (err as Error).message);
  }
  return { identity, privateKeyPem };
}
