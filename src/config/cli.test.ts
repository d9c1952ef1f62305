import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliConfigPath, loadCliConfig, saveCliConfig } from './cli.js';
import { ConfigError } from './load.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'muster-cli-'));

describe('CLI config path', () => {
  it('is MUSTER_CLI_CONFIG, else under XDG_CONFIG_HOME, else under ~/.config', () => {
    expect(cliConfigPath({ MUSTER_CLI_CONFIG: '/x/cli.json', XDG_CONFIG_HOME: '/xdg' })).toBe('/x/cli.json');
    expect(cliConfigPath({ XDG_CONFIG_HOME: '/xdg' })).toBe('/xdg/muster/cli.json');
    expect(cliConfigPath({ XDG_CONFIG_HOME: '' })).toBe(join(homedir(), '.config', 'muster', 'cli.json'));
    expect(cliConfigPath({})).toBe(join(homedir(), '.config', 'muster', 'cli.json'));
  });
});

describe('CLI config precedence', () => {
  const saved = () => {
    const env = { XDG_CONFIG_HOME: tempDir() };
    saveCliConfig({ server: 'http://file:1', api_key: 'mk_file' }, env);
    return env;
  };

  it('is default < login file < MUSTER_* env < flags, for each key on its own', () => {
    expect(loadCliConfig({}, { MUSTER_CLI_CONFIG: '/nonexistent/cli.json' })).toEqual({ server: 'http://127.0.0.1:8080' });
    const env = saved();
    expect(loadCliConfig({}, env)).toEqual({ server: 'http://file:1', api_key: 'mk_file' });
    expect(loadCliConfig({}, { ...env, MUSTER_API_KEY: 'mk_env' })).toEqual({ server: 'http://file:1', api_key: 'mk_env' });
    expect(loadCliConfig({}, { ...env, MUSTER_SERVER: 'http://env:2' })).toEqual({ server: 'http://env:2', api_key: 'mk_file' });
    const all = { ...env, MUSTER_SERVER: 'http://env:2', MUSTER_API_KEY: 'mk_env' };
    expect(loadCliConfig({ server: 'http://flag:3', api_key: 'mk_flag' }, all)).toEqual({ server: 'http://flag:3', api_key: 'mk_flag' });
    expect(loadCliConfig({ server: undefined, api_key: undefined }, all)).toEqual({ server: 'http://env:2', api_key: 'mk_env' });
    expect(loadCliConfig({}, { ...env, MUSTER_API_KEY: '' }).api_key).toBe('mk_file');
  });

  it('can leave out the saved key (for `muster login`) while keeping the saved server', () => {
    const env = saved();
    expect(loadCliConfig({}, env, { savedKey: false })).toEqual({ server: 'http://file:1' });
    expect(loadCliConfig({}, { ...env, MUSTER_API_KEY: 'mk_env' }, { savedKey: false })).toEqual({ server: 'http://file:1', api_key: 'mk_env' });
    expect(loadCliConfig({ api_key: 'mk_flag' }, env, { savedKey: false }).api_key).toBe('mk_flag');
  });

  it('names the bad key: a URL that is not http(s), an unknown key in the file, a file that is not JSON', () => {
    const env = { MUSTER_CLI_CONFIG: '/nonexistent/cli.json' };
    expect(() => loadCliConfig({ server: 'ftp://x' }, env)).toThrow(/invalid config server/);
    expect(() => loadCliConfig({}, { ...env, MUSTER_SERVER: 'localhost:8080' })).toThrow(ConfigError);
    const file = join(tempDir(), 'cli.json');
    writeFileSync(file, JSON.stringify({ server: 'http://a:1', token: 'x' }));
    expect(() => loadCliConfig({}, { MUSTER_CLI_CONFIG: file })).toThrow(/invalid config token/);
    writeFileSync(file, '{nope');
    expect(() => loadCliConfig({}, { MUSTER_CLI_CONFIG: file })).toThrow(/not valid JSON/);
  });
});

describe('the login file', () => {
  it('is written 0600 in a 0700 folder', () => {
    const env = { XDG_CONFIG_HOME: join(tempDir(), 'config') };
    const path = saveCliConfig({ server: 'http://10.0.0.1:8080', api_key: 'mk_saved' }, env);
    expect(path).toBe(join(env.XDG_CONFIG_HOME, 'muster', 'cli.json'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
  });

  it('is made 0600 again when an older file was readable by others', () => {
    const path = join(tempDir(), 'muster', 'cli.json');
    mkdirSync(dirname(path));
    writeFileSync(path, '{}', { mode: 0o644 });
    chmodSync(path, 0o644);
    saveCliConfig({ server: 'http://a:1', api_key: 'mk_new' }, { MUSTER_CLI_CONFIG: path });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadCliConfig({}, { MUSTER_CLI_CONFIG: path }).api_key).toBe('mk_new');
  });
});
