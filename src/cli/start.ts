import { isAbsolute, join, relative } from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../version.js';
import { shellQuote } from './args.js';
import { CliError } from './client.js';
import { LocalStack } from './local-stack.js';
import type { ManagedChild } from './managed-child.js';
import { err, out } from './output.js';

/** bin/muster.js of this installation, found from this module's place (src/ or dist/src/). */
export function musterBin(): string {
  return join(packageRoot(), 'bin', 'muster.js');
}

/** A path as the user should type it: relative when under the current folder, else absolute. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** How to invoke bin/muster.js from `cwd`: `./bin/muster.js` (or `../bin/…`) inside the repository, the absolute path outside it. */
export function binCommand(bin: string, cwd = process.cwd()): string {
  const root = join(bin, '..', '..');
  const inside = relative(root, cwd);
  if (inside.startsWith('..') || isAbsolute(inside)) return bin;
  const rel = relative(cwd, bin);
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** What `muster start` prints once the server and the agent are up. */
export function readyMessage(stack: LocalStack, systemId: string, bin: string, cwd = process.cwd()): string {
  const { url, paths } = stack;
  const keyFile = displayPath(paths.adminKeyFile, cwd);
  const tryIt = `MUSTER_SERVER=${url} MUSTER_API_KEY=$(cat ${shellQuote(keyFile)}) ${shellQuote(binCommand(bin, cwd))} run --all -- uname -a`;
  return [
    '',
    'muster is running, with an agent for this machine.',
    `  API:            ${url}`,
    `  API docs:       ${url}/docs`,
    `  admin API key:  ${keyFile} (mode 0600)`,
    `  this machine:   system ${systemId}`,
    `  logs:           ${displayPath(paths.serverLog, cwd)}, ${displayPath(paths.agentLog, cwd)}`,
    '',
    'Try it from another terminal:',
    `  ${tryIt}`,
    '',
    'Ctrl-C stops the agent, then the server.',
  ].join('\n');
}

/** Resolves with the first child to exit. */
function firstExit(children: ManagedChild[]): Promise<ManagedChild> {
  return Promise.race(children.map((c) => c.exited.then(() => c)));
}

/** Where `supervise` writes: stdout for the ready message, stderr for progress and errors. */
export interface StartOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * Starts the stack and keeps it until `stopRequested` settles (a signal:
 * stop the agent, then the server; 0) or a child exits on its own (stop the
 * other, show the dead one's log; 1). Resolves with the exit code once every
 * child is gone.
 */
export async function supervise(stack: LocalStack, bin: string, stopRequested: Promise<void>, print: StartOutput = { out, err }): Promise<number> {
  const signalled = stopRequested.then(() => 'signal' as const);
  const starting = stack.start(print.err).then(
    (systemId) => ({ systemId }),
    (error: Error) => ({ error }),
  );
  const first = await Promise.race([starting, signalled]);
  if (first === 'signal' || 'error' in first) {
    await stack.stop(); // also makes a start still under way fail fast
    const outcome = await starting;
    await stack.stop();
    if (first === 'signal' || !('error' in outcome)) return 0;
    print.err(`error: ${outcome.error.message}`);
    return outcome.error instanceof CliError ? outcome.error.exitCode : 1;
  }
  print.out(readyMessage(stack, first.systemId, bin));
  const ended = await Promise.race([signalled, firstExit([stack.server!, stack.agent!])]);
  if (ended !== 'signal') print.err(`error: ${await ended.deathNotice()}`);
  await stack.stop();
  return ended === 'signal' ? 0 : 1;
}

/** `muster start [--data-dir DIR] [--listen HOST:PORT]`: what `npm start` runs. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start a server (SQLite in the data dir) and an agent for this machine, ready to run commands; Ctrl-C stops both')
    .option('--data-dir <dir>', 'data directory: database, keys, agent state, logs', './muster-data')
    .option('--listen <host:port>', 'server address', '127.0.0.1:8080')
    .action(async (opts: { dataDir: string; listen: string }) => {
      const bin = musterBin();
      let stack: LocalStack;
      try {
        stack = new LocalStack({ dataDir: opts.dataDir, listen: opts.listen, bin });
      } catch (e) {
        err(`error: ${(e as Error).message}`);
        process.exitCode = e instanceof CliError ? e.exitCode : 1;
        return;
      }
      let signals = 0;
      const stopRequested = new Promise<void>((resolve) => {
        const onSignal = () => {
          if (++signals === 1) return resolve();
          stack.killNow('SIGKILL'); // a second Ctrl-C: the user will not wait for a clean stop
          process.exit(130);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      process.on('exit', () => stack.killNow('SIGTERM'));
      process.exit(await supervise(stack, bin, stopRequested));
    });
}
