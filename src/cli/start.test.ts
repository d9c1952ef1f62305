import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError } from './client.js';
import { LocalStack, listenUrl, stackPaths } from './local-stack.js';
import { binCommand, displayPath, musterBin, readyMessage, supervise } from './start.js';
import { FAKE_BIN } from './testing/fake-bin.js';

describe('start helpers', () => {
  it('turns --listen into a URL, a wildcard host into loopback, and refuses bad addresses (exit 2)', () => {
    expect(listenUrl('127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(listenUrl('0.0.0.0:9000')).toBe('http://127.0.0.1:9000');
    expect(listenUrl('[::]:9000')).toBe('http://[::1]:9000');
    expect(listenUrl('muster.lan:80')).toBe('http://muster.lan:80');
    for (const bad of ['8080', 'host:0', 'host:70000', 'a b:1']) expect(() => listenUrl(bad)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it('finds bin/muster.js at the root of this package', () => {
    expect(existsSync(musterBin())).toBe(true);
    expect(readFileSync(musterBin(), 'utf8')).toContain('dist/src/main.js');
  });

  it('shows bin/muster.js relative inside the repository and absolute outside it', () => {
    expect(binCommand('/repo/bin/muster.js', '/repo')).toBe('./bin/muster.js');
    expect(binCommand('/repo/bin/muster.js', '/repo/docs')).toBe('../bin/muster.js');
    expect(binCommand('/repo/bin/muster.js', '/elsewhere')).toBe('/repo/bin/muster.js');
    expect(binCommand('/repo/bin/muster.js', '/repository')).toBe('/repo/bin/muster.js');
    expect(displayPath('/repo/muster-data/admin-api-key', '/repo')).toBe('muster-data/admin-api-key');
    expect(displayPath('/tmp/d/admin-api-key', '/repo')).toBe('/tmp/d/admin-api-key');
  });

  it('prints the URL, the docs, the key file and a line to paste', () => {
    const stack = new LocalStack({ dataDir: '/repo/muster-data', listen: '127.0.0.1:8080', bin: '/repo/bin/muster.js' });
    const text = readyMessage(stack, 'sys1', '/repo/bin/muster.js', '/repo');
    expect(text).toContain('API:            http://127.0.0.1:8080\n');
    expect(text).toContain('API docs:       http://127.0.0.1:8080/docs\n');
    expect(text).toContain('admin API key:  muster-data/admin-api-key');
    expect(text).toContain('  MUSTER_SERVER=http://127.0.0.1:8080 MUSTER_API_KEY=$(cat muster-data/admin-api-key) ./bin/muster.js run --all -- uname -a\n');
    const spaced = new LocalStack({ dataDir: '/tmp/my data', listen: '127.0.0.1:8080', bin: '/repo/bin/muster.js' });
    expect(readyMessage(spaced, 'sys1', '/repo/bin/muster.js', '/repo')).toContain(`$(cat '/tmp/my data/admin-api-key')`);
  });
});

/** A port free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('supervise, with stand-in server and agent processes', () => {
  let stack: LocalStack | undefined;
  afterEach(() => stack?.killNow('SIGKILL'));

  async function setUp(fail?: 'server' | 'enroll') {
    const root = mkdtempSync(join(tmpdir(), 'muster-start-'));
    const bin = join(root, 'fake-muster.cjs');
    writeFileSync(bin, FAKE_BIN);
    if (fail) writeFileSync(join(root, `fail-${fail}`), '');
    const make = async () =>
      new LocalStack({ dataDir: join(root, 'data'), listen: `127.0.0.1:${await freePort()}`, bin, readyTimeoutMs: 10_000, intervalMs: 20 });
    const lines: string[] = [];
    const print = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    return { root, paths: stackPaths(join(root, 'data')), make, lines, print };
  }

  it('starts the server, enrolls and connects the agent, then stops the agent before the server on a signal', async () => {
    const { paths, make, lines, print } = await setUp();
    let stop!: () => void;
    const stopRequested = new Promise<void>((r) => (stop = r));
    stack = await make();
    const done = supervise(stack, '/repo/bin/muster.js', stopRequested, print);
    await until(() => lines.some((l) => l.includes('run --all -- uname -a')));
    expect(lines.join('\n')).toContain('this machine:   system sys1');
    expect(statSync(paths.serverLog).mode & 0o777).toBe(0o600);
    stop();
    expect(await done).toBe(0);
    expect(readFileSync(join(paths.dataDir, 'stopped'), 'utf8')).toBe('agent\nserver\n');

    // A second start with the same dir reuses the keys and the enrollment.
    stack = await make();
    const again = supervise(stack, '/repo/bin/muster.js', new Promise(() => undefined), print);
    await until(() => stack!.agent?.running === true && lines.filter((l) => l.includes('uname -a')).length === 2);
    stack.agent!.process.kill('SIGKILL'); // the agent dies on its own
    expect(await again).toBe(1);
    expect(lines.at(-1)).toMatch(/^error: the agent exited \(signal SIGKILL\); last lines of .*agent\.log:\n[\s\S]*agent running$/);
    expect(readFileSync(join(paths.agentDir, 'enrollments'), 'utf8')).toBe('x');
    expect(readFileSync(join(paths.dataDir, 'stopped'), 'utf8')).toBe('agent\nserver\nserver\n');
  });

  it('fails with the tail of the log when the server does not come up', async () => {
    const { make, lines, print } = await setUp('server');
    stack = await make();
    expect(await supervise(stack, '/bin/muster.js', new Promise(() => undefined), print)).toBe(1);
    expect(lines.at(-1)).toMatch(/^error: the server exited \(code 1\); last lines of .*server\.log:\ncannot bind: EADDRINUSE$/);
  });

  it('fails when enrollment fails, and stops the server', async () => {
    const { paths, make, lines, print } = await setUp('enroll');
    stack = await make();
    expect(await supervise(stack, '/bin/muster.js', new Promise(() => undefined), print)).toBe(1);
    expect(lines.at(-1)).toMatch(/^error: enrolling the local agent failed \(code 1\); .*\nenrollment refused$/);
    expect(readFileSync(join(paths.dataDir, 'stopped'), 'utf8')).toBe('server\n');
    expect(stack.server!.running).toBe(false);
  });

  it('refuses to start when something already answers at the address', async () => {
    const { make, lines, print } = await setUp();
    stack = await make();
    const first = supervise(stack, '/bin/muster.js', new Promise(() => undefined), print);
    await until(() => lines.some((l) => l.includes('uname -a')));
    const second = new LocalStack({ dataDir: join(stack.paths.dataDir, '..', 'other'), listen: stack.url.slice('http://'.length), bin: '/nonexistent' });
    const out: string[] = [];
    expect(await supervise(second, '/bin/muster.js', new Promise(() => undefined), { out: (l) => out.push(l), err: (l) => out.push(l) })).toBe(1);
    expect(out.at(-1)).toMatch(/^error: something already answers at http:\/\/127\.0\.0\.1:\d+ \(another `muster start`\?\)/);
    stack.server!.process.kill('SIGTERM');
    expect(await first).toBe(1);
  });
});

/** Waits for a condition that child processes make true (polls; they are other processes). */
async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new CliError('timed out in test');
    await new Promise((r) => setTimeout(r, 10));
  }
}
