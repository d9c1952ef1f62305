import { createPrivateKey } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** What `agent enroll` leaves in the state dir, in agent.conf. */
export interface AgentIdentity {
  systemKey: string;
  /** The server's address (the first given at enrollment; what scripts read as MUSTER_SERVER). */
  server: string;
  organizationId: string;
  /** Every address of the server, `server` first, when more than one was given (replicas, a load balancer). */
  servers?: string[];
}

/** The addresses the agent tries in turn: `servers`, or `server` alone. */
export function serverAddresses(identity: AgentIdentity): string[] {
  return identity.servers && identity.servers.length > 0 ? identity.servers : [identity.server];
}

export const CONF_FILE = 'agent.conf';
export const KEY_FILE = 'client.key';
/** JumpCloud's name for agent.conf: a symlink, so scripts written for /opt/jc work with only the directory changed. */
export const JC_CONF_LINK = 'jcagent.conf';

/** Creates the jcagent.conf → agent.conf symlink when it is missing (never replaces a file of that name). */
export function ensureCompatLink(stateDir: string): void {
  const link = join(stateDir, JC_CONF_LINK);
  try {
    lstatSync(link);
  } catch {
    try {
      symlinkSync(CONF_FILE, link);
    } catch {
      // A read-only or foreign state dir: the link is a convenience, agent.conf is what counts.
    }
  }
}

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
  const { systemKey, server, organizationId, servers } = identity;
  return `${JSON.stringify({ systemKey, server, organizationId, ...(servers && servers.length > 1 ? { servers } : {}) })}\n`;
}

/** The reference System Context script's extraction of the id from agent.conf. */
export const SYSTEM_KEY_REGEX = /systemKey":"(\w+)"/;

/**
 * Rewrites an agent.conf the reference script's regex cannot read (written
 * by hand or by another tool with spaces, or with extra fields) in the
 * compact form, keeping its values. Returns true when it rewrote the file.
 * A damaged file is left alone for loadIdentity to report.
 */
export function migrateIdentityFile(stateDir: string, write: (path: string, content: string) => void): boolean {
  const path = join(stateDir, CONF_FILE);
  if (!existsSync(path)) return false;
  const text = readFileSync(path, 'utf8');
  let identity: AgentIdentity;
  try {
    identity = JSON.parse(text) as AgentIdentity;
  } catch {
    return false;
  }
  if (typeof identity.systemKey !== 'string' || text === identityFileContent(identity)) return false;
  if (SYSTEM_KEY_REGEX.test(text) && typeof identity.organizationId === 'string') return false;
  write(path, identityFileContent({ ...identity, organizationId: identity.organizationId ?? '' }));
  return true;
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
  if (identity.servers !== undefined && (!Array.isArray(identity.servers) || !identity.servers.every((s) => typeof s === 'string' && /^https?:\/\//.test(s))))
    throw damaged(confPath, 'servers must be a list of http:// or https:// URLs');
  let privateKeyPem: string;
  try {
    privateKeyPem = readFileSync(keyPath, 'utf8');
    createPrivateKey(privateKeyPem);
  } catch (err) {
    throw damaged(keyPath, (err as Error).message);
  }
  return { identity, privateKeyPem };
}
