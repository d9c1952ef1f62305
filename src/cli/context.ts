import type { Command } from 'commander';
import { cliEnv, loadCliConfig, type CliConfig } from '../config/cli.js';
import { ConfigError } from '../config/load.js';
import { ApiClient, CliError } from './client.js';
import { err, out, outJson } from './output.js';

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

/** What a `list` sub-command shows. */
export interface ListingSpec<T, O> {
  /** The help's description. */
  description: string;
  /** `items` in `print the … as a JSON array`. */
  noun: string;
  /** The native API path to GET (`{items}`), from the command's options. */
  path: (opts: O) => string;
  table: (items: readonly T[]) => string;
  /** What is printed when there are no items. */
  empty: string;
  /** Options of its own (filters, limits), before --json. */
  options?: (command: Command) => Command;
}

/**
 * Adds a `list` sub-command to `parent`: it GETs the collection and prints
 * its items as a table, `empty` when there are none, or the JSON array with
 * `--json`. Every listing of the CLI is one of these.
 */
export function listCommand<T, O extends object = object>(parent: Command, spec: ListingSpec<T, O>): Command {
  const list = connectionOptions(parent.command('list')).description(spec.description);
  return (spec.options ? spec.options(list) : list).option('--json', `print the ${spec.noun} as a JSON array`).action(
    action(async (opts: O & { json?: boolean }, command: Command) => {
      const { items } = await clientFor(command).request<{ items: T[] }>('GET', spec.path(opts));
      if (opts.json) return outJson(items);
      out(items.length ? spec.table(items) : spec.empty);
    }),
  );
}
