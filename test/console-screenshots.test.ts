import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSkipReason, logIn, startConsoleFleet, terminalText, type ConsoleFleet } from './support/browser.js';
import { ROOT, waitFor } from './support/processes.js';

/**
 * Screenshots of every page of the console, into docs/screenshots/:
 * `npm run screenshots` (MUSTER_SCREENSHOTS=1); skipped in the ordinary
 * suite, where the browser tests cover the same pages.
 */
const OUT = join(ROOT, 'docs', 'screenshots');
const wanted = process.env.MUSTER_SCREENSHOTS === '1';
const skipReason = wanted ? browserSkipReason() : 'MUSTER_SCREENSHOTS is not 1 (npm run screenshots sets it): the screenshots are not regenerated';
if (skipReason) process.stdout.write(`\n${skipReason}\n\n`);

describe('console screenshots', () => {
  let fleet: ConsoleFleet;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: join(OUT, `${name}.png`) });

  beforeAll(async () => {
    if (skipReason) return;
    mkdirSync(OUT, { recursive: true });
    fleet = await startConsoleFleet();
    const { api } = fleet;
    await api('PATCH', `/v1/systems/${fleet.web.systemId}`, { display_name: 'web-1', description: 'frontend, rack 4' });
    await api('PATCH', `/v1/systems/${fleet.dbOnly.systemId}`, { display_name: 'db-1' });
    await api('POST', '/v1/groups', { name: 'production' });
    await api('POST', '/v1/groups/production/members', { system_id: fleet.web.systemId });
    const diskUsage = await api('POST', '/v1/scripts', {
      name: 'disk-usage',
      shell: 'sh',
      content: '#!/bin/sh\n# Space left on every mount\ndf -h\n',
      default_targets: { selector: 'tag:db' },
    });
    await api('POST', '/v1/triggers', { name: 'deploy', secret: true });
    await fetch(`${fleet.server.url}/api/v1/script_jobs`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${fleet.server.adminKey}:`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ script_id: diskUsage.body.id, device_ids: [fleet.web.systemId, fleet.dbOnly.systemId], job_name: 'disk usage, nightly' }),
    });
    await api('POST', '/v1/commands', {
      name: 'rotate-logs',
      content: 'logrotate -f /etc/logrotate.conf\n',
      launch_type: 'repeated',
      schedule: '*/15 * * * *',
    });
    await api('POST', '/v1/commands', { name: 'deploy-web', content: 'echo "deploying $version"\n', launch_type: 'trigger', trigger: 'deploy' });
    await fetch(`${fleet.server.url}/pdb/cmd/v1?command=replace_facts&version=5&certname=broken-node&secondsToWaitForCompletion=10`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fleet.server.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ certname: 'broken-node', environment: 'production', values: { os: { family: 'Debian' } } }),
    });
    page = await (await fleet.browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  });

  afterAll(async () => fleet?.stop());

  it.skipIf(skipReason !== undefined)(
    'takes one of each page',
    async () => {
      await page.goto(`${fleet.server.url}/`);
      await shot('login');
      await logIn(page, fleet.server.url, fleet.server.adminKey);
      await page.getByText('2 systems').waitFor();
      await shot('systems');
      await page.getByLabel('Filter with a selector').fill('tag:web and (os:linux or');
      await page.locator('.selector-error').waitFor();
      await shot('systems-selector-error');
      await page.getByLabel('Filter with a selector').fill('');
      await page.getByRole('link', { name: 'web-1' }).click();
      await page.getByRole('heading', { name: 'Facts' }).waitFor();
      await shot('system');

      await page.getByRole('link', { name: 'Run', exact: true }).click();
      await page
        .getByLabel('Script', { exact: true })
        .fill('#!/bin/sh\n# Who is here, and since when\nfor i in 1 2 3; do echo "tick $i on $(hostname)"; sleep 1; done\nuptime\n');
      await page.getByLabel('Targets (selector)').fill('tag:db');
      await page.getByText('2 matching systems').waitFor();
      await shot('run');
      await page.getByRole('button', { name: 'Launch' }).click();
      await page.waitForURL(/\/console\/jobs\/\w+/);
      await page.getByTestId(`run-${fleet.web.systemId}`).getByRole('button').click();
      await waitFor(async () => (await page.getByTestId('count-succeeded').textContent()) === '2', 'the job to succeed');
      await shot('job');
      await page.getByRole('link', { name: 'Jobs', exact: true }).click();
      await page.getByRole('table').waitFor();
      await shot('jobs');

      await page.getByRole('link', { name: 'Scripts' }).click();
      await page.getByText('rotate-logs').first().waitFor();
      await shot('scripts');
      await page.getByRole('button', { name: 'Rotate the secret of trigger deploy' }).click();
      await page.getByRole('dialog').waitFor();
      await shot('confirm');
      await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
      await page.getByTestId('new-secret').scrollIntoViewIfNeeded();
      await shot('trigger-secret');

      await page.getByRole('link', { name: 'Script jobs' }).click();
      await page.getByRole('link', { name: 'disk usage, nightly' }).waitFor();
      await shot('script-jobs');
      await page.getByRole('link', { name: 'Audit' }).click();
      await page.getByTestId('audit-event').first().waitFor();
      await shot('audit');

      await page.getByRole('link', { name: 'Shells' }).click();
      await page.getByLabel('Tag').fill('db');
      await page.getByRole('button', { name: 'Open shell' }).click();
      await page.getByText('2 systems match: choose one').waitFor();
      await shot('shell-chooser');
      await page.locator('.chooser li').filter({ hasText: 'web-1' }).getByRole('button').click();
      await waitFor(async () => /^Connected/.test((await page.getByTestId('terminal-status').textContent()) ?? ''), 'the terminal');
      await page.getByTestId('terminal').click();
      await page.keyboard.type('echo $((6*7)); uname -sr\n');
      await waitFor(async () => /^42$/m.test(await terminalText(page)), 'the answer');
      await shot('shell');
      await page.keyboard.type('exit\n');
      await page.getByTestId('playback').waitFor();
      await waitFor(async () => /^42$/m.test(await terminalText(page, 'playback')), 'the recording');
      await shot('recording');

      await page.getByRole('link', { name: 'Ingest' }).click();
      await page.getByTestId('dead-letter').locator('summary').click();
      await shot('ingest');

      await page.emulateMedia({ colorScheme: 'dark' });
      await page.getByRole('link', { name: 'Systems' }).click();
      await page.getByText('2 systems').waitFor();
      await shot('systems-dark');
      await page.setViewportSize({ width: 420, height: 800 });
      await shot('systems-narrow');
      expect(true).toBe(true);
    },
    120_000,
  );
});
