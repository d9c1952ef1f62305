import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultStateDir, loadAgentConfig } from './agent.js';
import { ConfigError } from './load.js';

function configFile(content: object): string {
  const path = join(mkdtempSync(join(tmpdir(), 'muster-agent-config-')), 'agent.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe('loadAgentConfig', () => {
  it('has the documented defaults', () => {
    const config = loadAgentConfig({}, {});
    expect(config).toEqual({
      state_dir: defaultStateDir(),
      max_concurrency: 8,
      kill_grace_s: 5,
      output_cap_bytes: 1048576,
      facts_interval_s: 300,
      log_level: 'info',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('puts root state in /var/lib and a user’s under ~/.local/state', () => {
    expect(defaultStateDir(0, '/root')).toBe('/var/lib/muster-agent');
    expect(defaultStateDir(1000, '/home/ann')).toBe('/home/ann/.local/state/muster-agent');
  });

  it('applies defaults < file < env < flags', () => {
    const file = configFile({ state_dir: '/from/file', max_concurrency: 2, kill_grace_s: 1 });
    const env = { MUSTER_AGENT_CONFIG: file, MUSTER_AGENT_MAX_CONCURRENCY: '3', MUSTER_LOG_LEVEL: 'debug' };
    expect(loadAgentConfig({}, env)).toMatchObject({ state_dir: '/from/file', max_concurrency: 3, kill_grace_s: 1, log_level: 'debug' });
    expect(loadAgentConfig({ state_dir: '/from/flag', log_level: 'warn' }, { ...env, MUSTER_STATE_DIR: '/from/env' })).toMatchObject({
      state_dir: '/from/flag',
      log_level: 'warn',
    });
    expect(loadAgentConfig({}, { ...env, MUSTER_STATE_DIR: '/from/env' }).state_dir).toBe('/from/env');
    expect(loadAgentConfig({ config: configFile({ output_cap_bytes: 2048 }) }, env).output_cap_bytes).toBe(2048);
  });

  it('names the offending key', () => {
    expect(() => loadAgentConfig({ max_concurrency: 0 }, {})).toThrow(/invalid config max_concurrency/);
    expect(() => loadAgentConfig({}, { MUSTER_AGENT_KILL_GRACE_S: 'soon' })).toThrow(ConfigError);
    expect(() => loadAgentConfig({}, { MUSTER_LOG_LEVEL: 'loud' })).toThrow(/log_level/);
    expect(() => loadAgentConfig({ config: configFile({ colour: 'blue' }) }, {})).toThrow(/invalid config colour/);
  });
});
