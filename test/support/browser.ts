import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './processes.js';

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
