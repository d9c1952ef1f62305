import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import Type, { type Static } from 'typebox';
import { loadConfig, type EnvBinding } from './load.js';

/** The CLI's configuration: which server, which key. */
export const CliConfigSchema = Type.Object(
  {
    server: Type.String({ pattern: '^https?://[^\\s/]+', default: 'http://127.0.0.1:8080', description: 'muster server URL' }),
    api_key: Type.Optional(Type.String({ minLength: 1, description: 'API key sent as a Bearer token' })),
  },
  { additionalProperties: false },
);

export type CliConfig = Static<typeof CliConfigSchema>;

/** Values from `--server` / `--api-key`; `undefined` means not given. */
export type CliFlags = {
  server?: string | undefined;
  api_key?: string | undefined;
};

type Env = Readonly<Record<string, string | undefined>>;

export const CLI_ENV_BINDINGS: readonly EnvBinding[] = [
  { key: 'server', env: 'MUSTER_SERVER', kind: 'string' },
  { key: 'api_key', env: 'MUSTER_API_KEY', kind: 'string' },
];

/** The CLI's environment; the one place the CLI reads `process.env`. */
export function cliEnv(): Env {
  return process.env;
}

/** Where `muster login` saves the server and key: MUSTER_CLI_CONFIG, else $XDG_CONFIG_HOME/muster/cli.json, else ~/.config/muster/cli.json. */
export function cliConfigPath(env: Env = process.env): string {
  if (env.MUSTER_CLI_CONFIG) return env.MUSTER_CLI_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'muster', 'cli.json');
}

/**
 * Loads the CLI config: default server < the login file < MUSTER_SERVER /
 * MUSTER_API_KEY < flags. With `savedKey: false` the login file's key is
 * ignored (`muster login` asks for a fresh one). Throws ConfigError naming the key.
 */
export function loadCliConfig(flags: CliFlags, env: Env = process.env, options: { savedKey?: boolean } = {}): Readonly<CliConfig> {
  const path = cliConfigPath(env);
  const file = existsSync(path) ? path : undefined;
  const config = loadConfig(CliConfigSchema, { file, env, bindings: CLI_ENV_BINDINGS, flags });
  if (options.savedKey !== false || config.api_key === undefined) return config;
  const fresh = loadConfig(CliConfigSchema, { env, bindings: CLI_ENV_BINDINGS, flags });
  return Object.freeze({ server: config.server, ...(fresh.api_key === undefined ? {} : { api_key: fresh.api_key }) });
}

/**
 * Saves the login file: its folder 0700, the file 0600 even when it already
 * existed with looser bits (written beside, then renamed over).
 */
export function saveCliConfig(config: CliConfig, env: Env = process.env): string {
  const path = cliConfigPath(env);
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.cli.json.${process.pid}.tmp`);
  writeFileSync(temp, `${JSON.stringify({ server: config.server, api_key: config.api_key }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600); // a leftover temp file from a crashed run keeps its old bits otherwise
  renameSync(temp, path);
  return path;
}
