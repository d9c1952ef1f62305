import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { cloneSystems } from '../bench/clone-systems.js';
import { signTrigger } from '../src/core/commands/trigger-env.js';
import { browserSkipReason, logIn, startConsoleFleet, terminalText, type ConsoleFleet } from './support/browser.js';

const skipReason = browserSkipReason();
if (skipReason) process.stdout.write(`\n${skipReason}\n\n`);
const skip = skipReason !== undefined;

const fleet: ConsoleFleet | undefined = skip ? undefined : await startConsoleFleet();

/** The web console's actions in a real chromium, against a real server and two real agents (SQLite). */
describe('the web console acts on jobs, dead letters, scripts and triggers', () => {
  let f: ConsoleFleet;
  let page: Page;
  const api = (method: string, path: string, body?: unknown, key?: string) => f.api(method, path, body, key);
  const goto = (path: string) => page.goto(`${f.server.url}/console${path}`);

  beforeAll(async () => {
    if (!fleet) return;
    f = fleet;
    const context = await f.browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: f.server.url });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await logIn(page, f.server.url, f.keys.operator);
  });

  afterAll(async () => fleet?.stop());

  it.skipIf(skip)('retries the failed run of a job: a new job on only that system', async () => {
    const failing = f.web.systemId;
    const { job } = (
      await api('POST', '/v1/jobs', {
        content: `if [ "$MUSTER_SYSTEM_ID" = "${failing}" ]; then echo broken >&2; exit 3; fi\necho fine\n`,
        targets: { system_ids: [f.web.systemId, f.dbOnly.systemId] },
      })
    ).body;
    await goto(`/jobs/${job.id}`);
    await expect.poll(() => page.getByTestId('count-failed').textContent(), { timeout: 20_000 }).toBe('1');
    await expect.poll(() => page.getByTestId('count-succeeded').textContent(), { timeout: 20_000 }).toBe('1');
    await page.getByRole('button', { name: 'Retry failed' }).click();
    await page.waitForURL((url) => /\/console\/jobs\/\w+$/.test(url.pathname) && !url.pathname.endsWith(job.id));
    const retried = /jobs\/(\w+)$/.exec(new URL(page.url()).pathname)![1]!;
    await expect.poll(() => page.getByTestId('count-all').textContent()).toBe('1');
    await page.getByTestId(`run-${failing}`).waitFor();
    expect(await page.getByTestId(`run-${f.dbOnly.systemId}`).count()).toBe(0);
    await expect.poll(() => page.getByTestId('count-failed').textContent(), { timeout: 20_000 }).toBe('1');
    const again = (await api('GET', `/v1/jobs/${retried}`)).body;
    expect(again).toMatchObject({ retry_of: job.id, total: 1 });
    expect((await api('GET', `/v1/jobs/${retried}/runs`)).body.items.map((r: { system_id: string }) => r.system_id)).toEqual([failing]);
  });

  it.skipIf(skip)('retries a dead letter (it is processed again, and fails again) and deletes it', async () => {
    // Submission accepts it; processing refuses it (no producer), so it lands in the dead letter office.
    const broken = JSON.stringify({ certname: 'retry1', environment: 'production', producer_timestamp: '2026-11-23T10:00:00Z', values: {} });
    const res = await fetch(`${f.server.url}/pdb/cmd/v1?command=replace_facts&version=5&certname=retry1&secondsToWaitForCompletion=10`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.server.adminKey}`, 'content-type': 'application/json' },
      body: broken,
    });
    const { uuid } = (await res.json()) as { uuid: string };
    const first = (await api('GET', `/v1/ingest/commands/${uuid}`)).body;
    expect(first.state).toBe('discarded');
    await goto('/ingest');
    const entry = page.getByTestId('dead-letter').filter({ hasText: 'retry1' });
    await entry.locator('summary').click();
    await entry.getByRole('button', { name: 'Retry' }).click();
    // Processed once more: discarded again, at a later instant.
    await expect
      .poll(
        async () => {
          const c = (await api('GET', `/v1/ingest/commands/${uuid}`)).body;
          return c.state === 'discarded' && c.processed_at !== first.processed_at;
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    await page.reload();
    const back = page.getByTestId('dead-letter').filter({ hasText: 'retry1' });
    await back.locator('summary').click();
    await expect.poll(() => back.textContent()).toMatch(/missing keys: producer/);
    await back.getByRole('button', { name: 'Delete' }).click();
    await back.waitFor({ state: 'detached' });
    expect((await api('GET', `/v1/ingest/commands/${uuid}`)).status).toBe(404);
  });

  it.skipIf(skip)('copies text selected in the terminal to the clipboard', async () => {
    await goto('/sessions');
    await page.getByLabel('Tag').fill('web');
    await page.getByRole('button', { name: 'Open shell' }).click();
    await page.waitForURL(/\/console\/sessions\/\w+/);
    await expect.poll(() => page.getByTestId('terminal-status').textContent(), { timeout: 15_000 }).toMatch(/^Connected/);
    await page.getByTestId('terminal').click();
    await page.keyboard.type('echo copy-me-$((2+3))\n');
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toMatch(/^copy-me-5$/m);
    await page.evaluate('navigator.clipboard.writeText("")');
    // A double click selects the word under the pointer, as in any terminal: the start of the output line.
    const line = page
      .getByTestId('terminal')
      .locator('.xterm-rows > div')
      .filter({ hasText: /^copy-me-5\s*$/ });
    const box = (await line.boundingBox())!;
    await page.mouse.dblclick(box.x + 12, box.y + box.height / 2);
    await page.getByRole('button', { name: 'Copy selection' }).click();
    await expect.poll(() => page.evaluate('navigator.clipboard.readText()')).toBe('copy-me-5');
    // The keyboard way: Ctrl+Shift+C, on a fresh selection.
    await page.evaluate('navigator.clipboard.writeText("")');
    await page.mouse.dblclick(box.x + 12, box.y + box.height / 2);
    await page.keyboard.press('Control+Shift+C');
    await expect.poll(() => page.evaluate('navigator.clipboard.readText()')).toBe('copy-me-5');
    await page.getByRole('button', { name: 'End session' }).click();
  });

  it.skipIf(skip)('deletes a script and a command after asking, from the mouse and from the keyboard', { timeout: 15_000 }, async () => {
    const script = (await api('POST', '/v1/scripts', { name: 'doomed-script', content: 'true' })).body;
    const command = (await api('POST', '/v1/commands', { name: 'doomed-command', content: 'true', launch_type: 'trigger', trigger: 'doomed' })).body;
    await goto('/scripts');
    await page.getByRole('button', { name: 'Delete command doomed-command' }).waitFor();
    const dialog = page.getByRole('dialog', { name: 'Delete script doomed-script' });
    // Asked first, with Cancel focused; Escape closes it and nothing is deleted.
    await page.getByRole('button', { name: 'Delete script doomed-script' }).click();
    await dialog.waitFor();
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await api('GET', `/v1/scripts/${script.id}`)).status).toBe(200);
    // From the keyboard: focus the button, Enter opens, Shift+Tab reaches Delete, Enter deletes.
    await page.getByRole('button', { name: 'Delete script doomed-script' }).focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Delete script doomed-script' }).waitFor({ state: 'detached' });
    expect((await api('GET', `/v1/scripts/${script.id}`)).status).toBe(404);
    // With the mouse.
    await page.getByRole('button', { name: 'Delete command doomed-command' }).click();
    await page.getByRole('dialog', { name: 'Delete command doomed-command' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Delete command doomed-command' }).waitFor({ state: 'detached' });
    expect((await api('GET', `/v1/commands/${command.id}`)).status).toBe(404);
  });

  it.skipIf(skip)("rotates a trigger's secret: the new one is shown once, copyable, in the curl example, and only it fires the trigger", async () => {
    const old = (await api('POST', '/v1/triggers', { name: 'rotate-me', secret: true })).body.secret as string;
    await api('POST', '/v1/commands', {
      name: 'on-rotate-me',
      content: 'true',
      launch_type: 'trigger',
      trigger: 'rotate-me',
      default_targets: { selector: 'tag:web' },
    });
    await goto('/scripts');
    await page.getByRole('button', { name: 'Rotate the secret of trigger rotate-me' }).click();
    await page.getByRole('dialog', { name: 'Rotate the secret of trigger rotate-me' }).getByRole('button', { name: 'Rotate' }).click();
    const shown = page.getByTestId('new-secret');
    await shown.waitFor();
    const secret = (await shown.getByTestId('secret').textContent())!;
    expect(secret).not.toBe(old);
    expect(await shown.getByTestId('secret-curl').textContent()).toContain(`SECRET='${secret}'`);
    await shown.getByRole('button', { name: 'Copy the secret' }).click();
    await expect.poll(() => page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    // The curl example's request, signed with each secret: the new one fires, the old one no longer does.
    const fire = (s: string) => {
      const t = Math.floor(Date.now() / 1000);
      const body = `{"reason":"console ${s.slice(0, 6)}"}`;
      return fetch(`${f.server.url}/api/command/trigger/rotate-me`, {
        method: 'POST',
        headers: { 'x-muster-signature': `t=${t},v1=${signTrigger(s, t, body)}`, 'content-type': 'application/json' },
        body,
      });
    };
    expect((await fire(old)).status).toBe(401);
    expect((await fire(secret)).status).toBe(200);
    // Shown once: a fresh page shows no secret.
    await page.reload();
    await page.getByRole('heading', { name: 'Triggers' }).waitFor();
    expect(await page.getByTestId('new-secret').count()).toBe(0);
    await page.getByRole('button', { name: 'Delete trigger rotate-me' }).click();
    await page.getByRole('dialog', { name: 'Delete trigger rotate-me' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('trigger-rotate-me').waitFor({ state: 'detached' });
    expect((await api('GET', '/v1/triggers')).body.items.some((t: { name: string }) => t.name === 'rotate-me')).toBe(false);
  });

  it.skipIf(skip)('lists script jobs as the SimpleMDM API sees them, with counts per device status, linked to their job page', async () => {
    const script = (await api('POST', '/v1/scripts', { name: 'smdm-inventory', content: 'echo inventory\n' })).body.id as string;
    const auth = { authorization: `Basic ${Buffer.from(`${f.server.adminKey}:`).toString('base64')}`, 'content-type': 'application/json' };
    const created = await fetch(`${f.server.url}/api/v1/script_jobs`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ script_id: script, device_ids: [f.web.systemId, f.dbOnly.systemId], job_name: 'nightly inventory' }),
    });
    const smdm = ((await created.json()) as { data: { id: number; attributes: { job_identifier: string } } }).data;
    await goto('/script-jobs');
    const row = page.getByTestId(`script-job-${smdm.id}`);
    await row.waitFor();
    expect(await row.textContent()).toContain('smdm-inventory');
    // The page reads once; reload until the agents have run it.
    await expect
      .poll(
        async () => {
          await page.reload();
          await row.waitFor();
          return row.getByTestId('status').textContent();
        },
        { timeout: 20_000 },
      )
      .toBe('completed');
    expect(await row.getByTestId('devices-completed').textContent()).toBe('2');
    expect(await row.getByTestId('devices-failed').textContent()).toBe('0');
    const face = await fetch(`${f.server.url}/api/v1/script_jobs/${smdm.id}`, { headers: auth });
    expect(((await face.json()) as { data: { attributes: { status: string; success_count: number } } }).data.attributes).toMatchObject({
      status: 'completed',
      success_count: 2,
    });
    await row.getByRole('link', { name: 'nightly inventory' }).click();
    await page.waitForURL((url) => url.pathname === `/console/jobs/${smdm.attributes.job_identifier}`);
    await expect.poll(() => page.getByTestId('count-succeeded').textContent()).toBe('2');
  });

  it.skipIf(skip)('pages a job of 1,200 runs from the server as the list scrolls, and filters them by state', async () => {
    const total = 1200;
    // Offline copies of an enrolled system in the database (enrolling 1,200 over HTTP takes minutes): their runs stay pending.
    const ids = cloneSystems(f.dataDir, total + 2).filter((id) => id !== f.web.systemId && id !== f.dbOnly.systemId);
    expect(ids).toHaveLength(total);
    const { job } = (await api('POST', '/v1/jobs', { content: 'true', targets: { system_ids: ids } })).body;
    const order = (await api('GET', `/v1/jobs/${job.id}/runs`)).body.items.map((r: { hostname: string }) => r.hostname) as string[];
    await goto(`/jobs/${job.id}`);
    await expect.poll(() => page.getByTestId('count-all').textContent()).toBe(String(total));
    const rows = page.getByTestId('runs-rows');
    await expect.poll(() => rows.getAttribute('data-loaded')).toBe('200');
    // Only the rows in view are in the page.
    expect(await rows.getByRole('row').count()).toBeLessThan(60);
    // Scrolling down a screen at a time loads the pages as they come into view, until the last row is the job's last run.
    for (let i = 0; i < 200 && (await rows.getAttribute('data-loaded')) !== String(total); i++) {
      await rows.evaluate((el) => el.scrollBy(0, el.clientHeight * 3));
      await page.waitForTimeout(0);
    }
    await expect.poll(() => rows.getAttribute('data-loaded'), { timeout: 20_000 }).toBe(String(total));
    await rows.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await expect.poll(() => rows.getByRole('row').last().textContent()).toContain(order.at(-1));
    // Filtered by state, the server answers: none failed, all pending.
    await page.getByRole('button', { name: /^failed/ }).click();
    await expect.poll(() => rows.getByRole('row').count()).toBe(0);
    await page.getByRole('button', { name: /^pending/ }).click();
    await expect.poll(() => rows.getAttribute('data-loaded')).toBe('200');
    expect(await rows.getByRole('row').first().textContent()).toContain(order[0]);
  });

  it.skipIf(skip)('shows the audit feed to an admin: filters kept in the URL, more on demand, an export of JSON lines', async () => {
    const admin = await f.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const p = await admin.newPage();
    try {
      // 105 audited actions of one kind, more than a page.
      let newest = '';
      for (let i = 0; i < 105; i++) newest = (await api('POST', '/v1/triggers', { name: `audited-${i}` })).body.trigger.id;
      await logIn(p, f.server.url, f.server.adminKey);
      await p.getByRole('link', { name: 'Audit' }).click();
      const rows = p.getByTestId('audit-event');
      await rows.first().waitFor();
      await p.getByLabel('Action (or prefix)').fill('trigger.');
      await p.getByRole('button', { name: 'Apply' }).click();
      await p.waitForURL((url) => url.searchParams.get('action') === 'trigger.');
      await expect.poll(() => rows.count()).toBe(100);
      expect((await rows.allTextContents()).every((t) => t.includes('trigger.'))).toBe(true);
      // The newest first: the last trigger made is the first row.
      expect(await rows.first().textContent()).toContain(newest);
      await p.getByRole('button', { name: 'Load more' }).click();
      await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(105);
      // The filter is in the URL: a reload keeps it.
      await p.reload();
      expect(await p.getByLabel('Action (or prefix)').inputValue()).toBe('trigger.');
      await expect.poll(() => rows.count()).toBe(100);
      const [download] = await Promise.all([p.waitForEvent('download'), p.getByRole('button', { name: 'Export (JSON lines)' }).click()]);
      // Saved from memory, not fetched from a URL that would have to carry the key.
      expect(download.url()).toMatch(/^blob:/);
      const lines = readFileSync((await download.path())!, 'utf8')
        .trim()
        .split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(105);
      expect(lines.map((l) => JSON.parse(l) as { action: string }).some((e) => e.action.startsWith('trigger.'))).toBe(true);
      // Other keys are offered no audit page.
      expect(await page.getByRole('link', { name: 'Audit' }).count()).toBe(0);
    } finally {
      await admin.close();
    }
  });
});
