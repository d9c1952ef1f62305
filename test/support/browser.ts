import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTestDatabase } from './databases.js';
import { ROOT, startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './processes.js';
import { call } from './server.js';

/** Debian's chromium; the browser tests drive it with playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can (printed once by the suite that skips). */
export function browserSkipReason(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (apt-get install chromium): the console's browser tests are skipped`;
  if (!existsSync(join(ROOT, 'dist', 'console', 'index.html'))) return 'the console is not built (npm run build): its browser tests are skipped';
  return undefined;
}

/** A headless chromium (no sandbox when running as root, as in CI containers). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-dev-shm-usage'],
  });
}

/** Opens the console at `base` and logs in with `key`; resolves once the navigation shows the key's role. */
export async function logIn(page: Page, base: string, key: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('role').waitFor();
}

/** The text the terminal shows, one line per row (xterm's DOM renderer). */
export async function terminalText(page: Page, testId = 'terminal'): Promise<string> {
  return page
    .getByTestId(testId)
    .locator('.xterm-rows > div')
    .evaluateAll((rows) => rows.map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).join('\n'));
}

/** A server, two agents (tags web+db and db), viewer and operator keys, and a browser: what the console's browser tests and screenshots run against. */
export interface ConsoleFleet {
  server: ServerProcess;
  /** The server's data directory (its SQLite database is muster.db there). */
  dataDir: string;
  web: AgentProcess;
  dbOnly: AgentProcess;
  keys: { viewer: string; operator: string };
  browser: Browser;
  api(method: string, path: string, body?: unknown, key?: string): ReturnType<typeof call>;
  stop(): Promise<void>;
}

export async function startConsoleFleet(): Promise<ConsoleFleet> {
  // The agents' shells start in an empty home: what the machine's own dotfiles do (a ~/.bashrc that waits on something) is not under test.
  process.env.HOME = mkdtempSync(join(tmpdir(), 'muster-console-home-'));
  const db = await createTestDatabase('sqlite');
  const server = await startServerProcess(db);
  const api = (method: string, path: string, body?: unknown, key = server.adminKey) => call(server.url, key, method, path, body);
  const web = await startAgentProcess(server, ['web', 'db']);
  const dbOnly = await startAgentProcess(server, ['db']);
  const keys = { viewer: '', operator: '' };
  for (const role of ['viewer', 'operator'] as const) keys[role] = (await api('POST', '/v1/api-keys', { name: role, role })).body.secret;
  await waitFor(async () => {
    const { body } = await api('GET', '/v1/systems');
    return [web, dbOnly].every((a) => body.items.some((s: { id: string; connected: boolean }) => s.id === a.systemId && s.connected));
  }, 'two agents to connect');
  const browser = await launchBrowser();
  return {
    server,
    dataDir: db.dataDir,
    web,
    dbOnly,
    keys,
    browser,
    api,
    stop: async () => {
      await browser.close();
      for (const a of [web, dbOnly]) await a.proc.stop();
      await server.proc.stop();
      await db.drop();
    },
  };
}
