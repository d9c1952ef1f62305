import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inheritedEnvironment } from '../config/agent.js';
import type { RunDeliver } from '../protocol/messages.js';
import { execute, type ExecOptions } from './executor.js';

const isRoot = process.getuid?.() === 0;

function deliver(content: string, over: Partial<RunDeliver> = {}): RunDeliver {
  return {
    v: 1,
    type: 'run.deliver',
    run_id: `r${Math.random().toString(36).slice(2)}`,
    job_id: 'j1',
    shell: 'sh',
    content,
    env: {},
    timeout_s: 30,
    run_as: null,
    ...over,
  };
}

interface TestOptions extends ExecOptions {
  live: string[];
  started: string[];
  /** Resolves when live output has contained `text`. */
  seen(text: string): Promise<void>;
}

function options(over: Partial<ExecOptions> = {}): TestOptions {
  const live: string[] = [];
  const started: string[] = [];
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  return {
    workDir: join(mkdtempSync(join(tmpdir(), 'muster-exec-')), 'run'),
    env: inheritedEnvironment(),
    killGraceMs: 1000,
    outputCap: 1024 * 1024,
    onOutput: (stream, data) => {
      live.push(`${stream}:${data.toString()}`);
      for (const w of waiters) if (live.join('').includes(w.text)) w.resolve();
    },
    onStarted: (at) => started.push(at),
    live,
    started,
    seen: (text) => (live.join('').includes(text) ? Promise.resolve() : new Promise((resolve) => waiters.push({ text, resolve }))),
    ...over,
  };
}

/** Running (a zombie waiting for its reaper counts as dead). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('execute', () => {
  it('captures stdout and stderr separately with the exit code, then removes the work dir', async () => {
    const o = options();
    const result = await execute(deliver('echo out; echo err >&2; exit 3'), o).done;
    expect(result).toMatchObject({ outcome: 'exited', exit_code: 3, signal: null, stdout: 'out\n', stderr: 'err\n', error: null, stdout_truncated: false });
    expect(Date.parse(result.finished_at)).toBeGreaterThanOrEqual(Date.parse(result.started_at!));
    expect(o.started).toEqual([result.started_at]);
    expect(o.live.join('')).toContain('stdout:out');
    expect(existsSync(o.workDir)).toBe(false);
  });

  it('runs in the work dir with the given environment and no stdin', async () => {
    const o = options({ env: { ...inheritedEnvironment(), GREETING: '$(id) `x`' } });
    const result = await execute(deliver('printf "%s|" "$GREETING" "$(pwd)"; cat; cat script >/dev/null && echo has-script'), o).done;
    expect(result.stdout).toBe(`$(id) \`x\`|${o.workDir}|has-script\n`);
  });

  it('runs bash and python3 scripts', async () => {
    const bash = await execute(deliver('echo "${BASH_VERSION:+bash}"', { shell: 'bash' }), options()).done;
    expect(bash.stdout).toBe('bash\n');
    const python = await execute(deliver('import sys\nprint("py", sys.version_info[0])\nsys.exit(4)', { shell: 'python3' }), options()).done;
    expect(python).toMatchObject({ outcome: 'exited', exit_code: 4, stdout: 'py 3\n' });
  });

  it('kills the whole process group on timeout, children included', async () => {
    const result = await execute(deliver('sleep 60 & echo $!; wait', { timeout_s: 1 }), options()).done;
    expect(result).toMatchObject({ outcome: 'timed_out', exit_code: null, signal: 'SIGTERM' });
    expect(result.error).toMatch(/within 1 s/);
    const child = Number(result.stdout.trim());
    expect(child).toBeGreaterThan(0);
    expect(alive(child)).toBe(false);
  });

  it('escalates to SIGKILL when the script ignores SIGTERM', async () => {
    const result = await execute(deliver("trap '' TERM; echo ready; while :; do sleep 0.1; done", { timeout_s: 1 }), options({ killGraceMs: 300 })).done;
    expect(result).toMatchObject({ outcome: 'timed_out', signal: 'SIGKILL', stdout: 'ready\n' });
  });

  it('stops a run on cancel', async () => {
    const o = options();
    const exec = execute(deliver('echo started; sleep 60'), o);
    await o.seen('started');
    exec.stop('cancelled', 'cancelled by test');
    expect(await exec.done).toMatchObject({ outcome: 'cancelled', error: 'cancelled by test', stdout: 'started\n' });
  });

  it('reports death by a signal it did not send as signaled', async () => {
    const result = await execute(deliver('echo before; kill -KILL $$'), options()).done;
    expect(result).toMatchObject({ outcome: 'signaled', exit_code: null, signal: 'SIGKILL', stdout: 'before\n' });
  });

  it('does not wait for ever on a background child that keeps stdout open', async () => {
    const started = Date.now();
    const result = await execute(deliver('sleep 30 & echo $!; exit 0'), options()).done;
    expect(result).toMatchObject({ outcome: 'exited', exit_code: 0 });
    expect(Date.now() - started).toBeLessThan(5000);
    process.kill(Number(result.stdout.trim()), 'SIGKILL');
  });

  it('reports a missing shell as failed_to_start', async () => {
    const o = options({ env: { PATH: '/nonexistent' } });
    const result = await execute(deliver('echo hi', { shell: 'zsh' }), o).done;
    expect(result).toMatchObject({ outcome: 'failed_to_start', started_at: null, error: 'shell zsh is not installed on this machine' });
    const ps = await execute(deliver('echo hi', { shell: 'powershell' }), o).done;
    expect(ps.error).toBe('shell powershell is not installed on this machine');
    expect(o.started).toEqual([]);
  });

  it('keeps the tail of large output and flags truncation', async () => {
    const result = await execute(deliver('head -c 5000 /dev/zero | tr "\\0" a; echo END; echo small >&2'), options({ outputCap: 1024 })).done;
    expect(result.stdout_truncated).toBe(true);
    expect(Buffer.byteLength(result.stdout)).toBe(1024);
    expect(result.stdout.endsWith('aaaEND\n')).toBe(true);
    expect(result).toMatchObject({ stderr: 'small\n', stderr_truncated: false });
  });

  it('runs as the agent’s own user when asked to', async () => {
    const me = userInfo().username;
    expect(await execute(deliver('id -un', { run_as: me }), options()).done).toMatchObject({ outcome: 'exited', stdout: `${me}\n` });
  });

  it.runIf(isRoot)('runs as another user when the agent is root', async () => {
    const result = await execute(deliver('printf "%s %s %s" "$(id -un)" "$USER" "$LOGNAME"', { run_as: 'nobody' }), options()).done;
    expect(result).toMatchObject({ outcome: 'exited', exit_code: 0, stdout: 'nobody nobody nobody' });
    const unknown = await execute(deliver('id', { run_as: 'no_such_user_here' }), options()).done;
    expect(unknown).toMatchObject({ outcome: 'failed_to_start', error: 'there is no user no_such_user_here on this machine' });
  });

  it.skipIf(isRoot)('refuses another user when the agent is not root', async () => {
    const result = await execute(deliver('id', { run_as: 'root' }), options()).done;
    expect(result).toMatchObject({ outcome: 'failed_to_start', error: 'the agent is not running as root, so it cannot run as root' });
  });
});
