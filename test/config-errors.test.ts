import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { muster } from './support/processes.js';

describe('invalid configuration exits non-zero naming the key', () => {
  it('refuses a bad flag, env value or config file before starting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'muster-config-'));
    const flag = await muster(['server', '--listen', 'nonsense', '--data-dir', dir]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/invalid config listen/);

    const env = await muster(['server', '--data-dir', dir], { MUSTER_LOG_LEVEL: 'loud' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/log_level/);

    const file = join(dir, 'muster.json');
    writeFileSync(file, JSON.stringify({ listen: '127.0.0.1:0', body_limit_bytes: 'big' }));
    const fromFile = await muster(['server', '--config', file]);
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toMatch(/body_limit_bytes/);

    const shortKey = await muster(['server', '--listen', '127.0.0.1:0', '--data-dir', dir], { MUSTER_BOOTSTRAP_API_KEY: 'short' });
    expect(shortKey.code).toBe(2);
    expect(shortKey.stderr).toMatch(/bootstrap_api_key/);

    const agent = await muster(['agent', 'run', '--state-dir', dir, '--max-concurrency', '0']);
    expect(agent.code).toBe(2);
    expect(agent.stderr).toMatch(/max_concurrency/);
  });

  it('tells an operator without a key what to do', async () => {
    const res = await muster(['systems'], { MUSTER_API_KEY: '', MUSTER_CLI_CONFIG: '/nonexistent/cli.json' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('muster login');
  });
});
