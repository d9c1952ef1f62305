import { describe, expect, it } from 'vitest';
import { AGENT_OWNED_NAMES, scriptEnvironment } from './script-env.js';

const AGENT = { PATH: '/usr/bin:/bin', HOME: '/root', USER: 'root', LOGNAME: 'root', SHELL: '/bin/sh', LANG: 'C.UTF-8' };
const MUSTER = { MUSTER_SYSTEM_ID: 'sys1', MUSTER_RUN_ID: 'run1' };

describe('scriptEnvironment', () => {
  it.each([
    ['BASH_ENV', /bash sources the file/],
    ['ENV', /source the file it names/],
    ['PATH', /which program every command name/],
    ['LD_PRELOAD', /dynamic loader/],
    ['PYTHONPATH', /CPython/],
    ['https_proxy', /proxy/],
    ['MUSTER_SYSTEM_ID', /reserved for what the agent sets/],
    ['bad-name', /not a valid variable name/],
  ])('refuses a job environment that sets %s, naming it and why', (name, reason) => {
    const env = scriptEnvironment(AGENT, { GREETING: 'hi', [name]: '$(id > /tmp/x)' }, MUSTER);
    expect(env.ok).toBe(false);
    if (env.ok) return;
    expect(env.error).toMatch(new RegExp(`^the agent refused to run this script: its environment sets ${name}: `));
    expect(env.error).toMatch(reason);
  });

  it('passes data variables, and keeps what the agent owns whatever the job says', () => {
    const env = scriptEnvironment(AGENT, { GREETING: 'hi', LANG: 'de_DE.UTF-8' }, MUSTER);
    expect(env).toEqual({ ok: true, env: { ...AGENT, GREETING: 'hi', LANG: 'de_DE.UTF-8', ...MUSTER } });
    expect(AGENT_OWNED_NAMES).toEqual(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL']);
    // USER and LOGNAME are not on the deny list: the agent's values still win.
    const owned = scriptEnvironment(AGENT, { USER: 'mallory', LOGNAME: 'mallory' }, MUSTER);
    expect(owned.ok && [owned.env.USER, owned.env.LOGNAME]).toEqual(['root', 'root']);
  });
});
