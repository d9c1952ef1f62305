import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { System } from '../api/native/index.js';
import { ApiClient, CliError, usageError } from './client.js';
import { launcherNodeFlags } from '../lib/launcher.js';
import { ManagedChild, tailOf, waitUntil } from './managed-child.js';

/** Where `muster start` keeps everything, all inside the data dir. */
export interface StackPaths {
  dataDir: string;
  serverLog: string;
  agentLog: string;
  agentDir: string;
  agentConf: string;
  adminKeyFile: string;
  enrollmentKeyFile: string;
}

/** The files of a data dir (the names the server and agent use). */
export function stackPaths(dataDir: string): StackPaths {
  const dir = resolve(dataDir);
  return {
    dataDir: dir,
    serverLog: join(dir, 'server.log'),
    agentLog: join(dir, 'agent.log'),
    agentDir: join(dir, 'agent'),
    agentConf: join(dir, 'agent', 'agent.conf'),
    adminKeyFile: join(dir, 'admin-api-key'),
    enrollmentKeyFile: join(dir, 'enrollment-key'),
  };
}

/** The URL to reach a `--listen` address at: a wildcard host means this machine's loopback. Bad addresses are usage errors. */
export function listenUrl(listen: string): string {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65_535) throw usageError(`--listen ${listen}: expected HOST:PORT with a port from 1 to 65535, e.g. 127.0.0.1:8080`);
  const host = m[1] === '0.0.0.0' ? '127.0.0.1' : m[1] === '[::]' ? '[::1]' : m[1]!;
  return `http://${host}:${port}`;
}

export interface StackOptions {
  dataDir: string;
  listen: string;
  /** bin/muster.js, run with `node` for each child. */
  bin: string;
  node?: string;
  /** How long the server and the agent each get to become ready (30 s). */
  readyTimeoutMs?: number;
  /** How often readiness is checked (100 ms). */
  intervalMs?: number;
}

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new CliError(`cannot read the ${what} at ${path}: ${(e as Error).message}`);
  }
}

/** The system id the agent was given at enrollment (`systemKey` in agent.conf). */
function systemIdOf(agentConf: string): string {
  const text = readSecretFile(agentConf, 'agent identity');
  let conf: { systemKey?: unknown } | undefined;
  try {
    conf = JSON.parse(text) as { systemKey?: unknown };
  } catch {
    // damaged: reported below
  }
  if (typeof conf?.systemKey !== 'string') throw new CliError(`${agentConf} holds no systemKey: delete its folder to enroll this machine again`);
  return conf.systemKey;
}

/**
 * A server on SQLite in the data dir plus an agent for this machine, as
 * child processes of `muster start`. A second start with the same dir
 * reuses its database, keys and enrollment.
 */
export class LocalStack {
  readonly paths: StackPaths;
  readonly url: string;
  server: ManagedChild | undefined;
  agent: ManagedChild | undefined;
  private enroller: ManagedChild | undefined;
  private readonly node: string;
  private stopped = false;

  constructor(private readonly options: StackOptions) {
    this.paths = stackPaths(options.dataDir);
    this.url = listenUrl(options.listen);
    this.node = options.node ?? process.execPath;
  }

  /** Starts the server, enrolls the agent when needed, starts it, and waits until it is connected; returns its system id. */
  async start(log: (line: string) => void): Promise<string> {
    const { paths } = this;
    mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
    if (await this.ready()) throw new CliError(`something already answers at ${this.url} (another \`muster start\`?): stop it, or use --listen`);
    log(`starting the server at ${this.url} (log: ${paths.serverLog})…`);
    this.server = this.spawn('server', ['server', '--data-dir', paths.dataDir, '--listen', this.options.listen], paths.serverLog);
    await this.waitFor(() => this.ready(), [this.server], 'the server to be ready', paths.serverLog);
    const client = new ApiClient(this.url, readSecretFile(paths.adminKeyFile, 'admin API key'));
    if (!existsSync(paths.agentConf)) {
      log(`enrolling an agent for this machine (log: ${paths.agentLog})…`);
      await this.enroll();
    }
    const systemId = systemIdOf(paths.agentConf);
    log(`starting the agent (system ${systemId})…`);
    this.agent = this.spawn('agent', ['agent', 'run', '--state-dir', paths.agentDir], paths.agentLog);
    const connected = async () => (await client.list<System>('/v1/systems')).some((s) => s.id === systemId && s.connected) || undefined;
    await this.waitFor(connected, [this.server, this.agent], 'the agent to connect', paths.agentLog);
    return systemId;
  }

  /** Stops the agent (and a running enrollment), waits, then the server, waits. Nothing starts afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.enroller?.stop();
    await this.agent?.stop();
    await this.server?.stop();
  }

  /** Signals whatever still runs, without waiting: for when `muster start` itself is going away abruptly. */
  killNow(signal: NodeJS.Signals): void {
    this.stopped = true;
    for (const child of [this.enroller, this.agent, this.server]) child?.killNow(signal);
  }

  private async enroll(): Promise<void> {
    const key = readSecretFile(this.paths.enrollmentKeyFile, 'enrollment key');
    const args = ['agent', 'enroll', '--server', this.url, '--enrollment-key', key, '--state-dir', this.paths.agentDir];
    this.enroller = this.spawn('enrollment', args, this.paths.agentLog);
    const how = await this.enroller.exited;
    this.enroller = undefined;
    if (how !== 'code 0')
      throw new CliError(`enrolling the local agent failed (${how}); last lines of ${this.paths.agentLog}:\n${tailOf(this.paths.agentLog)}`);
  }

  private spawn(name: string, args: string[], log: string): ManagedChild {
    if (this.stopped) throw new CliError('stopped before the start completed');
    return new ManagedChild(name, this.node, [...launcherNodeFlags(this.options.bin), this.options.bin, ...args], log);
  }

  private async ready(): Promise<true | undefined> {
    const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    await res?.body?.cancel();
    return res?.ok ? true : undefined;
  }

  private waitFor(check: () => Promise<true | undefined>, children: ManagedChild[], what: string, log: string): Promise<true> {
    const timeoutMs = this.options.readyTimeoutMs ?? 30_000;
    return waitUntil(check, {
      timeoutMs,
      intervalMs: this.options.intervalMs ?? 100,
      children,
      timeoutMessage: () => `gave up waiting for ${what} after ${timeoutMs / 1000} s; last lines of ${log}:\n${tailOf(log)}`,
    });
  }
}
