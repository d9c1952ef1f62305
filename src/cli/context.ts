import type { Command } from 'commander';
import { cliEnv, loadCliConfig, type CliConfig } from '../config/cli.js';
import { ConfigError } from '../config/load.js';
import { ApiClient, CliError } from './client.js';
import { err } from './output.js';

/**
 * Adds --server and --api-key to a CLI command. Not options of the root
 * program: `muster agent enroll --server` means the agent's server and must
 * stay its own.
 */
export function connectionOptions(command: Command): Command {
  return command
    .option('--server <url>', 'muster server URL (or MUSTER_SERVER; default http://127.0.0.1:8080)')
    .option('--api-key <key>', 'API key (or MUSTER_API_KEY, or the one saved by `muster login`)');
}

/** The CLI config for a command: its --server/--api-key over MUSTER_* over the login file. Bad values are usage errors. */
export function configFor(command: Command, options: { savedKey?: boolean } = {}): Readonly<CliConfig> {
  const opts = command.optsWithGlobals() as { server?: string; apiKey?: string };
  try {
    return loadCliConfig({ server: opts.server, api_key: opts.apiKey }, cliEnv(), options);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, 2);
    throw e;
  }
}

/** The API client for a command. */
export function clientFor(command: Command): ApiClient {
  const config = configFor(command);
  return new ApiClient(config.server, config.api_key);
}

/**
 * Wraps an action so failures print `error: …` to stderr and set the exit
 * code (the CliError's, else 1). It sets `process.exitCode` rather than
 * exiting, so output still in flight to a pipe is not cut off.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      const exitCode = e instanceof CliError ? e.exitCode : e instanceof ConfigError ? 2 : 1;
      err(`error: ${(e as Error).message ?? String(e)}`);
      process.exitCode = exitCode;
    }
  };
}
