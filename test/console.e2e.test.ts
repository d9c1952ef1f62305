import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { browserSkipReason, logIn, startConsoleFleet, terminalText, type ConsoleFleet } from './support/browser.js';
import type { AgentProcess, ServerProcess } from './support/processes.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`\n${skipReason}\n\n`);
const skip = skipReason !== undefined;

/** The web console in a real chromium, against a real server and two real agents (SQLite: the console sees only the API). */
describe('the web console in a browser', () => {
  let fleet: ConsoleFleet;
  let server: ServerProcess;
  let web: AgentProcess;
  let dbOnly: AgentProcess;
  let browser: Browser;
  let page: Page;
  let keys: ConsoleFleet['keys'];
  const api = (method: string, path: string, body?: unknown, key = server.adminKey) => fleet.api(method, path, body, key);

  beforeAll(async () => {
    if (skip) return;
    fleet = await startConsoleFleet();
    ({ server, web, dbOnly, browser, keys } = fleet);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  });

  afterAll(async () => fleet?.stop());

  it.skipIf(skip)('logs in with an API key kept in session storage, never in the URL', async () => {
    await page.goto(`${server.url}/`);
    await page.getByLabel('API key').fill('mk_wrong_key_that_does_not_exist_0000');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').waitFor();
    await logIn(page, server.url, keys.operator);
    expect(await page.getByTestId('role').textContent()).toBe('operator');
    expect(page.url()).not.toContain(keys.operator);
    // Evaluated in the page (the test's own types have no DOM).
    expect(await page.evaluate('sessionStorage.getItem("muster.apiKey")')).toBe(keys.operator);
    expect(await page.evaluate('localStorage.length')).toBe(0);
  });

  it.skipIf(skip)('filters systems with a selector, and shows a syntax error with its position', async () => {
    await page.getByRole('link', { name: 'Systems' }).click();
    const filter = page.getByLabel('Filter with a selector');
    await page.getByText('2 systems').waitFor();
    await filter.fill('tag:web');
    await page.getByText('1 system', { exact: true }).waitFor();
    await expect.poll(() => page.getByTestId('systems-rows').getByRole('row').count()).toBe(1);
    await filter.fill('tag:web and (');
    const error = page.locator('.selector-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/at position \d+/);
    expect(await filter.getAttribute('aria-invalid')).toBe('true');
    await filter.fill('tag:db');
    await page.getByText('2 systems').waitFor();
  });

  it.skipIf(skip)('launches a job on two systems and watches both outputs stream until the counts say succeeded', async () => {
    await page.getByRole('link', { name: 'Run' }).click();
    await page.getByLabel('Script', { exact: true }).fill('echo "first-$MUSTER_SYSTEM_ID"\nsleep 2\necho "second-$MUSTER_SYSTEM_ID"\n');
    await page.getByLabel('Targets (selector)').fill('tag:db');
    await page.getByText('2 matching systems (2 online)').waitFor();
    await page.getByRole('button', { name: 'Launch' }).click();
    await page.waitForURL(/\/console\/jobs\/\w+/);
    // Each row shows its system's last line as it arrives: the first line while the run still runs (it sleeps 2 s), then the second.
    for (const agent of [web, dbOnly]) {
      const row = page.getByTestId(`run-${agent.systemId}`);
      await expect.poll(() => row.getByTestId('last-line').textContent(), { timeout: 15_000 }).toBe(`first-${agent.systemId}`);
      expect(await row.textContent()).toContain('running');
    }
    // The counts are the server's, re-read soon after the stream's news: both run while they sleep 2 s.
    await expect.poll(async () => Number(await page.getByTestId('count-running').textContent())).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('count-succeeded').textContent(), { timeout: 20_000 }).toBe('2');
    for (const agent of [web, dbOnly])
      await expect.poll(() => page.getByTestId(`run-${agent.systemId}`).getByTestId('last-line').textContent()).toBe(`second-${agent.systemId}`);
    // One system's full output, in its panel.
    await page.getByTestId(`run-${web.systemId}`).getByRole('button').click();
    await expect.poll(() => page.getByTestId('stdout').textContent()).toBe(`first-${web.systemId}\nsecond-${web.systemId}\n`);
    expect(await page.getByTestId('count-failed').textContent()).toBe('0');
    // The system's page lists the run among its recent ones, linked to this job.
    const jobPath = new URL(page.url()).pathname;
    await page.goto(new URL(`/console/systems/${web.systemId}`, page.url()).href);
    const recent = page.getByRole('list', { name: 'Recent runs' });
    await expect.poll(() => recent.getByRole('link').first().getAttribute('href')).toBe(jobPath);
    expect(await recent.getByRole('listitem').first().textContent()).toContain('succeeded');
    await page.goBack();
    await page.waitForURL((url) => url.pathname === jobPath);
  });

  it.skipIf(skip)('cancels a long job', async () => {
    await page.getByRole('link', { name: 'Run' }).click();
    await page.getByLabel('Script', { exact: true }).fill('echo started\nsleep 120\n');
    await page.getByLabel('Targets (selector)').fill('tag:web');
    await page.getByText('1 matching system (1 online)').waitFor();
    await page.getByRole('button', { name: 'Launch' }).click();
    await page.waitForURL(/\/console\/jobs\/\w+/);
    await expect.poll(() => page.getByTestId(`run-${web.systemId}`).getByTestId('last-line').textContent(), { timeout: 15_000 }).toBe('started');
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await expect.poll(() => page.getByTestId('count-cancelled').textContent(), { timeout: 20_000 }).toBe('1');
    await page.getByRole('button', { name: 'Cancel job' }).waitFor({ state: 'detached' });
  });

  it.skipIf(skip)('opens a shell by criteria, choosing among the matches, and reads 42 from echo $((6*7))', async () => {
    await page.getByRole('link', { name: 'Shells' }).click();
    await page.getByLabel('Tag').fill('db');
    await page.getByRole('button', { name: 'Open shell' }).click();
    await page.getByText('2 systems match: choose one').waitFor();
    const choices = page.locator('.chooser li');
    expect(await choices.count()).toBe(2);
    await choices.filter({ hasText: 'web' }).getByRole('button').click();
    await page.waitForURL(/\/console\/sessions\/\w+/);
    await expect.poll(() => page.getByTestId('terminal-status').textContent(), { timeout: 15_000 }).toMatch(/^Connected/);
    await page.getByTestId('terminal').click();
    await page.keyboard.type('echo $((6*7))');
    await page.keyboard.press('Enter');
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toMatch(/^42$/m);
    const id = /sessions\/(\w+)/.exec(page.url())![1]!;
    expect((await api('GET', `/v1/sessions/${id}`)).body.system_id).toBe(web.systemId);
    // Resizing the window resizes the shell: the size the page shows is the one the shell reports.
    const before = await page.getByTestId('terminal-status').textContent();
    await page.setViewportSize({ width: 900, height: 700 });
    await expect.poll(() => page.getByTestId('terminal-status').textContent()).not.toBe(before);
    const [, cols, rows] = /(\d+)×(\d+)/.exec((await page.getByTestId('terminal-status').textContent())!)!;
    await page.keyboard.type('stty size\n');
    await expect.poll(() => terminalText(page), { timeout: 10_000 }).toMatch(new RegExp(`^${rows} ${cols}$`, 'm'));
    // Paste (the button reads the clipboard) and copy (the selection goes to it).
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.evaluate('navigator.clipboard.writeText("echo pasted-$((1+1))")');
    await page.getByRole('button', { name: 'Paste' }).click();
    // Bash takes a paste as text (bracketed paste): Enter runs it.
    await page.getByTestId('terminal').click();
    await page.keyboard.press('Enter');
    await expect.poll(() => terminalText(page), { timeout: 10_000 }).toMatch(/^pasted-2$/m);
    await page.getByTestId('terminal').click();
    await page.keyboard.type('exit\n');
    await page.getByTestId('playback').waitFor({ timeout: 15_000 });
    await expect.poll(() => terminalText(page, 'playback'), { timeout: 10_000 }).toMatch(/^42$/m);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it.skipIf(skip)("lands a BeyondTrust web_console script's redirect on the session it asked for", async () => {
    const res = await fetch(`${server.url}/api/client_script?type=web_console&operation=execute&action=start_jump_item_session&client.tag=web`, {
      headers: { authorization: `Bearer ${keys.operator}` },
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    await page.goto(`${server.url}${res.headers.get('location')}`);
    await page.waitForURL(/\/console\/sessions\/\w{8,}/);
    await expect.poll(() => page.getByTestId('terminal-status').textContent(), { timeout: 15_000 }).toMatch(/^Connected/);
    await page.getByRole('button', { name: 'End session' }).click();
  });

  it.skipIf(skip)('an attach ticket opens the socket once, and only for its session', async () => {
    const open = async () => (await api('POST', '/v1/sessions', { system_id: web.systemId }, keys.operator)).body.id as string;
    const [first, second] = [await open(), await open()];
    const ticket = (await api('POST', `/v1/sessions/${first}/attach-ticket`, undefined, keys.operator)).body;
    expect(ticket).toMatchObject({ ticket: expect.stringMatching(/^mat_/), expires_at: expect.any(String) });
    const socketFor = (id: string, t: string) => new WebSocket(`${server.url.replace(/^http/, 'ws')}/v1/sessions/${id}/attach?ticket=${t}`);
    const outcome = (ws: WebSocket) =>
      new Promise<string>((resolve) => {
        ws.on('open', () => resolve('open'));
        ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
        ws.on('error', () => undefined);
      });
    const ws = socketFor(first, ticket.ticket);
    expect(await outcome(ws)).toBe('open');
    ws.close();
    expect(await outcome(socketFor(first, ticket.ticket))).toBe('401');
    const other = (await api('POST', `/v1/sessions/${first}/attach-ticket`, undefined, keys.operator)).body.ticket as string;
    expect(await outcome(socketFor(second, other))).toBe('401');
    // Another operator may not mint one for a session that is not theirs.
    const stranger = (await api('POST', '/v1/api-keys', { name: 'stranger', role: 'operator' })).body.secret as string;
    expect((await api('POST', `/v1/sessions/${second}/attach-ticket`, undefined, stranger)).status).toBe(403);
    for (const id of [first, second]) await api('POST', `/v1/sessions/${id}/end`, undefined, keys.operator);
  });

  it.skipIf(skip)('opens a dead letter and shows its error and payload', async () => {
    const broken = JSON.stringify({ certname: 'console1', environment: 'production', producer_timestamp: '2026-11-23T10:00:00Z', values: {} });
    const res = await fetch(`${server.url}/pdb/cmd/v1?command=replace_facts&version=5&certname=console1&secondsToWaitForCompletion=10`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
      body: broken,
    });
    expect(res.status).toBe(200);
    await page.getByRole('link', { name: 'Ingest' }).click();
    const entry = page.getByTestId('dead-letter').filter({ hasText: 'console1' });
    await entry.locator('summary').click();
    await expect.poll(() => entry.textContent()).toMatch(/missing keys: producer/);
    expect(await entry.locator('pre').last().textContent()).toContain('"certname": "console1"');
    await entry.getByRole('button', { name: 'Delete' }).click();
    await entry.waitFor({ state: 'detached' });
  });

  it.skipIf(skip)('a viewer key is offered no launch button, no cancel and no shell', async () => {
    const viewer = await browser.newContext();
    const p = await viewer.newPage();
    try {
      await logIn(p, server.url, keys.viewer);
      expect(await p.getByTestId('role').textContent()).toBe('viewer');
      await p.getByRole('link', { name: 'Run' }).click();
      await p.getByText('This key is a viewer').waitFor();
      expect(await p.getByRole('button', { name: 'Launch' }).count()).toBe(0);
      const jobs = (await api('GET', '/v1/jobs')).body.items as Array<{ id: string }>;
      await p.goto(`${server.url}/console/jobs/${jobs[0]!.id}`);
      await p.getByTestId('count-all').waitFor();
      expect(await p.getByRole('button', { name: /Cancel|Retry/ }).count()).toBe(0);
      await p.getByRole('link', { name: 'Shells' }).click();
      await p.getByText('This key is a viewer').waitFor();
      expect(await p.getByRole('button', { name: 'Open shell' }).count()).toBe(0);
      await p.getByRole('link', { name: 'Scripts' }).click();
      await p.getByRole('heading', { name: 'Triggers' }).waitFor();
      expect(await p.getByRole('button', { name: /New script|New command|Create with a secret|Delete|Rotate/ }).count()).toBe(0);
      expect(await p.getByRole('link', { name: 'Audit' }).count()).toBe(0);
      await p.getByRole('link', { name: 'Ingest' }).click();
      await p.getByRole('heading', { name: 'Dead letter office' }).waitFor();
      expect(await p.getByRole('button', { name: /Retry|Delete/ }).count()).toBe(0);
    } finally {
      await viewer.close();
    }
  });

  it.skipIf(skip)('every control on every page has an accessible name, and the skip link leads to the content', async () => {
    const unnamed = async () =>
      page.evaluate(`[...document.querySelectorAll('input, select, textarea, button')]
        .filter((el) => !el.closest('.xterm') && !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !(el.textContent || '').trim())
        .map((el) => el.outerHTML.slice(0, 80))`);
    for (const name of ['Systems', 'Run', 'Jobs', 'Script jobs', 'Scripts', 'Shells', 'Ingest']) {
      await page.getByRole('link', { name, exact: true }).click();
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      expect(await unnamed(), name).toEqual([]);
    }
    await page.reload();
    await page.getByTestId('role').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('main');
  });
});
