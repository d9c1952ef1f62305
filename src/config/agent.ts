import { homedir } from 'node:os';
import { join } from 'node:path';
import Type, { type Static } from 'typebox';
import { loadConfig, LogLevel, type EnvBinding } from './load.js';

/**
 * The agent's configuration schema. `state_dir`'s default depends on who runs
 * the agent, so the schema is built per load with that default filled in
 * (a default, not an environment value: a config file must still win over it).
 */
export function agentConfigSchema(stateDirDefault: string) {
  return Type.Object(
    {
      state_dir: Type.String({ minLength: 1, default: stateDirDefault, description: 'agent.conf, client.key, spool/, work/' }),
      max_concurrency: Type.Integer({ minimum: 1, maximum: 1024, default: 8, description: 'scripts run at once; more wait in order' }),
      kill_grace_s: Type.Number({ minimum: 0, maximum: 600, default: 5, description: 'between SIGTERM and SIGKILL' }),
      output_cap_bytes: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024, description: 'tail kept per stream' }),
      facts_interval_s: Type.Integer({ minimum: 10, maximum: 86_400, default: 300, description: 'how often basic facts are reported on an open connection' }),
      log_level: LogLevel,
    },
    { additionalProperties: false },
  );
}

export type AgentConfig = Static<ReturnType<typeof agentConfigSchema>>;

const BINDINGS: EnvBinding[] = [
  { key: 'state_dir', env: 'MUSTER_STATE_DIR', kind: 'string' },
  { key: 'max_concurrency', env: 'MUSTER_AGENT_MAX_CONCURRENCY', kind: 'integer' },
  { key: 'kill_grace_s', env: 'MUSTER_AGENT_KILL_GRACE_S', kind: 'number' },
  { key: 'output_cap_bytes', env: 'MUSTER_AGENT_OUTPUT_CAP_BYTES', kind: 'integer' },
  { key: 'facts_interval_s', env: 'MUSTER_AGENT_FACTS_INTERVAL_S', kind: 'integer' },
  { key: 'log_level', env: 'MUSTER_LOG_LEVEL', kind: 'string' },
];

/** /var/lib/muster-agent when running as root, else ~/.local/state/muster-agent. */
export function defaultStateDir(uid: number | undefined = process.getuid?.(), home: string = homedir()): string {
  if (uid === 0) return '/var/lib/muster-agent';
  return join(home, '.local', 'state', 'muster-agent');
}

/**
 * Loads the agent config: defaults < file (`--config` or MUSTER_AGENT_CONFIG)
 * < MUSTER_* env < flags. Throws ConfigError naming the key.
 */
export function loadAgentConfig(flags: Record<string, unknown>, env: Readonly<Record<string, string | undefined>> = process.env): Readonly<AgentConfig> {
  const { config: file, ...rest } = flags;
  return loadConfig(agentConfigSchema(defaultStateDir()), {
    file: (file as string | undefined) ?? env.MUSTER_AGENT_CONFIG,
    env,
    bindings: BINDINGS,
    flags: rest,
  });
}

/** The agent's own environment, which scripts inherit (only config/ reads process.env). */
export function inheritedEnvironment(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  return out;
}
