import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDatabase } from './databases.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'muster.js');

/** A free TCP port on 127.0.0.1 (so a restarted server comes back where its agents look). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

/** A child process whose output is collected, and which can be awaited. */
export class Proc {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves when the collected stdout+stderr matches `re`; rejects if the process exits first. */
  async waitForOutput(re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = (this.stdout + this.stderr).match(re);
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`process exited before printing ${re}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}:\n${this.stdout}\n${this.stderr}`);
      await Promise.race([once(this.child.stdout!, 'data'), once(this.child.stderr!, 'data'), once(this.child, 'exit'), delay(500)]);
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** Runs `muster …` to completion. */
export async function muster(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = new Proc(spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  const { code } = await proc.exited;
  return { code, stdout: proc.stdout, stderr: proc.stderr };
}

/** Spawns a long-running `muster …`. */
export function musterDaemon(args: string[], env: Record<string, string> = {}): Proc {
  return new Proc(spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

export interface ServerProcess {
  url: string;
  port: number;
  adminKey: string;
  enrollmentKey: string;
  proc: Proc;
  /** Starts the same server again (same database, same port) after a stop. */
  restart(): Promise<void>;
}

/** A real `muster server` process over `db`. */
export async function startServerProcess(db: TestDatabase, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort();
  const adminKey = `mk_e2e_${randomBytes(16).toString('hex')}`;
  const enrollmentKey = `mek_e2e_${randomBytes(16).toString('hex')}`;
  const args = ['server', '--listen', `127.0.0.1:${port}`, '--data-dir', db.dataDir, ...(db.url ? ['--database-url', db.url] : [])];
  const env = { MUSTER_BOOTSTRAP_API_KEY: adminKey, MUSTER_BOOTSTRAP_ENROLLMENT_KEY: enrollmentKey, MUSTER_LOG_LEVEL: 'info', ...extraEnv };
  const result: ServerProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    adminKey,
    enrollmentKey,
    proc: musterDaemon(args, env),
    restart: async () => {
      result.proc = musterDaemon(args, env);
      await result.proc.waitForOutput(/muster server listening/);
    },
  };
  try {
    await result.proc.waitForOutput(/muster server listening/);
  } catch (err) {
    // A server that never said it listens is not left running (with --workers, its workers with it).
    await result.proc.stop();
    throw err;
  }
  return result;
}

export interface AgentProcess {
  stateDir: string;
  systemId: string;
  proc: Proc;
  restart(): void;
}

/**
 * An agent's environment in tests: its state dir as HOME, so the interactive
 * shells of sessions read no rc file of the machine's own user (a login
 * script that takes a lock or prints would make the tests depend on it).
 */
export const AGENT_ENV = (stateDir: string): Record<string, string> => ({ HOME: stateDir });

/** Enrolls and starts a real `muster agent` with its own state dir. */
export async function startAgentProcess(server: ServerProcess, tags: string[] = []): Promise<AgentProcess> {
  const stateDir = mkdtempSync(join(tmpdir(), 'muster-agent-'));
  const enrolled = await muster([
    'agent',
    'enroll',
    '--server',
    server.url,
    '--enrollment-key',
    server.enrollmentKey,
    '--state-dir',
    stateDir,
    ...tags.flatMap((t) => ['--tag', t]),
  ]);
  if (enrolled.code !== 0) throw new Error(`enroll failed (${enrolled.code}): ${enrolled.stderr}${enrolled.stdout}`);
  const { readFileSync } = await import('node:fs');
  const conf = readFileSync(join(stateDir, 'agent.conf'), 'utf8');
  const systemId = /systemKey":"(\w+)"/.exec(conf)![1]!;
  const args = ['agent', 'run', '--state-dir', stateDir];
  const agent: AgentProcess = {
    stateDir,
    systemId,
    proc: musterDaemon(args, AGENT_ENV(stateDir)),
    restart: () => {
      agent.proc = musterDaemon(args, AGENT_ENV(stateDir));
    },
  };
  return agent;
}

/** Polls `check` (every 100 ms) until it returns a truthy value; for conditions only observable by asking. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}
