import type { Command } from 'commander';
import { loadAgentConfig, type AgentConfig } from '../config/agent.js';
import { ConfigError } from '../config/load.js';
import { enrollAgent, runAgent } from './main.js';
import { registerSelfCommands } from './self-commands.js';

function fail(code: number, message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(code);
}

/** Loads the config; a bad value exits 2 naming the key. */
function config(flags: Record<string, unknown>): Readonly<AgentConfig> {
  try {
    return loadAgentConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) fail(2, err.message);
    throw err;
  }
}

function collect(value: string, all: string[]): string[] {
  return [...all, value];
}

interface EnrollFlags {
  server: string[];
  enrollmentKey: string;
  stateDir?: string;
  tag: string[];
  force?: boolean;
  config?: string;
}

interface RunFlags {
  stateDir?: string;
  maxConcurrency?: number;
  logLevel?: string;
  config?: string;
}

/** `--server a --server b,c` → the first, and all of them in order. */
function serverFlags(flags: string[]): { server: string; servers: string[] } {
  const servers = flags
    .flatMap((f) => f.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  return { server: servers[0] ?? '', servers };
}

/** Adds `muster agent enroll|run|self|join-group|leave-group|deregister` to the root program. */
export function registerAgentCommands(program: Command): void {
  const agent = program.command('agent').description('the daemon on each managed machine');

  agent
    .command('enroll')
    .description('register this machine with a muster server')
    .requiredOption(
      '--server <url>',
      'the server URL, e.g. https://muster.example.com; repeat it (or separate with commas) for replicas or a load balancer: the agent moves to the next when one cannot be reached',
      collect,
      [] as string[],
    )
    .requiredOption('--enrollment-key <key>', 'an enrollment key')
    .option('--state-dir <dir>', 'where agent.conf and client.key are kept')
    .option('--tag <tag>', 'a tag for this system (repeatable)', collect, [] as string[])
    .option('--force', 'enroll again as a new system, replacing the existing identity')
    .option('--config <file>', 'JSON config file (also MUSTER_AGENT_CONFIG)')
    .action(async (opts: EnrollFlags) => {
      const c = config({ state_dir: opts.stateDir, config: opts.config });
      if (opts.server.length === 0) fail(2, "required option '--server <url>' not specified");
      try {
        const identity = await enrollAgent({
          ...serverFlags(opts.server),
          enrollmentKey: opts.enrollmentKey,
          stateDir: c.state_dir,
          tags: opts.tag,
          force: Boolean(opts.force),
        });
        process.stdout.write(`enrolled as system ${identity.systemKey}; start the agent with: muster agent run --state-dir ${c.state_dir}\n`);
      } catch (err) {
        fail(1, (err as Error).message);
      }
    });

  agent
    .command('run')
    .description('run the agent daemon (until SIGTERM/SIGINT)')
    .option('--state-dir <dir>', 'where agent.conf and client.key are kept')
    .option('--max-concurrency <n>', 'scripts run at once; more wait in order', Number)
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option('--config <file>', 'JSON config file (also MUSTER_AGENT_CONFIG)')
    .action(async (opts: RunFlags) => {
      const c = config({ state_dir: opts.stateDir, max_concurrency: opts.maxConcurrency, log_level: opts.logLevel, config: opts.config });
      try {
        await runAgent(c);
      } catch (err) {
        fail(1, (err as Error).message);
      }
      process.exit(0);
    });

  registerSelfCommands(agent, (flags) => config({ state_dir: flags.stateDir, config: flags.config }).state_dir);
}
