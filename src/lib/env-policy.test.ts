import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOnPath } from '../agent/executor.js';
import { deniedEnvRule, ENV_DENY_LIST, envNameProblem } from './env-policy.js';

describe('the environment deny list', () => {
  it('refuses what changes how bash, sh, zsh, python3, PowerShell, the loader or common tools behave', () => {
    const refused = [
      'BASH_ENV',
      'ENV',
      'PATH',
      'path',
      'LD_PRELOAD',
      'LD_LIBRARY_PATH',
      'LD_AUDIT',
      'DYLD_INSERT_LIBRARIES',
      'IFS',
      'PS4',
      'PS1',
      'PROMPT4',
      'SHELLOPTS',
      'BASHOPTS',
      'PROMPT_COMMAND',
      'BASH_FUNC_echo',
      'PYTHONPATH',
      'PYTHONSTARTUP',
      'PYTHONWARNINGS',
      'PYENV_VERSION',
      'NODE_OPTIONS',
      'NODE_PATH',
      'NODE_TLS_REJECT_UNAUTHORIZED',
      'npm_config_script_shell',
      'NPM_CONFIG_REGISTRY',
      'PERL5OPT',
      'PERL5LIB',
      'RUBYOPT',
      'ZDOTDIR',
      'HOME',
      'FPATH',
      'NULLCMD',
      'GCONV_PATH',
      'GLIBC_TUNABLES',
      'MALLOC_TRACE',
      'TMPDIR',
      'PSModulePath',
      'DOTNET_STARTUP_HOOKS',
      'CORECLR_PROFILER_PATH',
      'GIT_SSH_COMMAND',
      'GIT_CONFIG_KEY_0',
      'OPENSSL_CONF',
      'SSL_CERT_FILE',
      'http_proxy',
      'HTTPS_PROXY',
      'all_proxy',
      'No_Proxy',
      'PIP_INDEX_URL',
      'JAVA_TOOL_OPTIONS',
      'LESSOPEN',
      'EDITOR',
      'SHELL',
    ];
    expect(refused.filter((name) => deniedEnvRule(name) === undefined)).toEqual([]);
  });

  it('lets ordinary data through, including lower-case names a shell does not read', () => {
    const allowed = [
      'srcip',
      'alert',
      'DISK',
      'THRESHOLD',
      'env',
      'home',
      'ifs',
      'LANG',
      'LC_ALL',
      'TZ',
      'USER',
      'hostname',
      'severity',
      'proxy',
      'PROXY_HOST',
      'PATHNAME',
      'LDAP_URI',
      'NODEJS_VERSION_WANTED',
      'test',
    ];
    expect(allowed.filter((name) => envNameProblem(name) !== undefined)).toEqual([]);
  });

  it('names the variable and says why, and keeps refusing bad names and MUSTER_*', () => {
    expect(envNameProblem('BASH_ENV')).toBe(
      'BASH_ENV changes how the script runs, so a caller may not set it: bash sources the file it names before it runs any non-interactive script',
    );
    expect(envNameProblem('MUSTER_RUN_ID')).toMatch(/reserved/);
    expect(envNameProblem('BASH_FUNC_echo%%')).toMatch(/not a valid variable name/);
    expect(envNameProblem('1x')).toMatch(/not a valid variable name/);
  });

  it('gives every entry a reason, once', () => {
    expect(ENV_DENY_LIST.filter((r) => r.reason.length < 20)).toEqual([]);
    const keys = ENV_DENY_LIST.map((r) => `${r.match}:${r.name}`);
    expect(keys.length).toBe(new Set(keys).size);
    expect(Object.isFrozen(ENV_DENY_LIST) && Object.isFrozen(ENV_DENY_LIST[0])).toBe(true);
  });
});

/**
 * The entries are not hypothetical: with each installed program, setting the
 * variable runs code the script never named. A marker printed proves it.
 */
describe('what the refused variables would do to the shells installed here', () => {
  const dir = mkdtempSync(join(tmpdir(), 'muster-env-policy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const has = (program: string) => findOnPath(program, process.env.PATH) !== undefined;
  const inject = join(dir, 'inject.sh');
  writeFileSync(inject, 'echo injected\n');
  /** Everything the program printed, on either stream. */
  const run = (program: string, args: string[], env: Record<string, string>, as: { uid?: number } = {}) => {
    const r = spawnSync(program, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      cwd: as.uid === undefined ? dir : '/',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
      ...as,
    });
    return `${r.stdout}${r.stderr}`;
  };
  const proves = (name: string, output: string) => {
    expect(output).toContain('injected');
    expect(envNameProblem(name)).toMatch(new RegExp(`^${name} changes how the script runs`));
  };

  it.skipIf(!has('bash'))('bash: BASH_ENV runs a file first; SHELLOPTS with PS4 runs a command substitution', () => {
    proves('BASH_ENV', run('bash', ['-c', 'true'], { BASH_ENV: inject }));
    expect(run('bash', ['-c', 'true'], { SHELLOPTS: 'xtrace' })).toBe('+ true\n');
    expect(envNameProblem('SHELLOPTS')).toBeDefined();
    // bash ignores an inherited PS4 when it runs as root; a script run as another user (run_as) takes it.
    const user = process.getuid?.() === 0 ? { uid: 65534 } : {};
    proves('PS4', run('bash', ['-c', 'true'], { SHELLOPTS: 'xtrace', PS4: '$(echo injected) ' }, user));
  });

  it.skipIf(!has('sh'))('sh: ENV runs a file when the shell is interactive; PATH replaces any command', () => {
    proves('ENV', run('sh', ['-i', '-c', 'true'], { ENV: inject }));
    writeFileSync(join(dir, 'uname'), '#!/bin/sh\necho injected\n', { mode: 0o755 });
    proves('PATH', run('sh', ['-c', 'uname'], { PATH: `${dir}:${process.env.PATH}` }));
  });

  it.skipIf(!has('zsh'))('zsh: ZDOTDIR and HOME name a .zshenv sourced by every zsh, interactive or not', () => {
    writeFileSync(join(dir, '.zshenv'), 'echo injected\n');
    proves('ZDOTDIR', run('zsh', ['-c', 'true'], { ZDOTDIR: dir }));
    proves('HOME', run('zsh', ['-c', 'true'], { HOME: dir }));
  });

  it.skipIf(!has('python3'))('python3: PYTHONPATH imports a sitecustomize module before the script', () => {
    writeFileSync(join(dir, 'sitecustomize.py'), 'print("injected")\n');
    proves('PYTHONPATH', run('python3', ['-c', 'pass'], { PYTHONPATH: dir }));
  });

  it.skipIf(!has('node'))('node: NODE_OPTIONS --require loads a module first', () => {
    writeFileSync(join(dir, 'inject.cjs'), 'console.log("injected")\n');
    proves('NODE_OPTIONS', run(process.execPath, ['-e', '0'], { NODE_OPTIONS: `--require ${join(dir, 'inject.cjs')}` }));
  });

  it.skipIf(!has('perl'))('perl: PERL5OPT loads a module into every Perl program', () => {
    writeFileSync(join(dir, 'Inject.pm'), 'package Inject; print "injected\\n"; 1;\n');
    proves('PERL5OPT', run('perl', ['-e', '1'], { PERL5OPT: '-MInject', PERL5LIB: dir }));
  });
});
