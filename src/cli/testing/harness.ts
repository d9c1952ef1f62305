import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, vi } from 'vitest';
import { registerCliCommands } from '../commands.js';
import { FakeApi, type FakeRoute } from './fake-api.js';

/** What a CLI test sees: the captured output, the fake API, and the CLI's config file. */
export interface CliHarness {
  stdout: string;
  stderr: string;
  api: FakeApi;
  configPath: string;
  /** Starts a fake muster API with these routes; returns its URL. */
  serve(routes: Record<string, FakeRoute>): Promise<string>;
  /** Runs `muster …` in-process; returns the exit code it set (0 when none). */
  muster(...args: string[]): Promise<number>;
}

/**
 * Sets up each test of the calling file: stdout and stderr captured, a fresh
 * CLI config file, no MUSTER_SERVER/MUSTER_API_KEY from the environment; and
 * tears the fake API down after it.
 */
export function useCliHarness(): CliHarness {
  const h = {
    stdout: '',
    stderr: '',
    configPath: '',
    async serve(routes: Record<string, FakeRoute>) {
      h.api = new FakeApi(routes);
      return h.api.start();
    },
    async muster(...args: string[]) {
      const program = new Command('muster').exitOverride().configureOutput({ writeErr: (s) => (h.stderr += s), writeOut: (s) => (h.stdout += s) });
      registerCliCommands(program);
      await program.parseAsync(['node', 'muster', ...args]);
      return Number(process.exitCode ?? 0);
    },
  } as CliHarness;
  beforeEach(() => {
    h.stdout = '';
    h.stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((h.stdout += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((h.stderr += String(chunk)), true));
    h.configPath = join(mkdtempSync(join(tmpdir(), 'muster-cli-')), 'cli.json');
    vi.stubEnv('MUSTER_CLI_CONFIG', h.configPath);
    vi.stubEnv('MUSTER_SERVER', '');
    vi.stubEnv('MUSTER_API_KEY', '');
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    process.exitCode = undefined;
    await h.api?.stop();
  });
  return h;
}
