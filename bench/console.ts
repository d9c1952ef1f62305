import { chromium, type Page } from 'playwright-core';
import { cloneSystems } from './clone-systems.js';
import { startBenchServer } from './server-child.js';
import { enrollSystems } from './sim-pool.js';

/**
 * `npm run build && node dist/bench/console.js [--systems 100000] [--runs 10000] [--rounds 3]`
 *
 * Time to the first useful render of the web console's systems page with N
 * systems (the count shown and the first rows drawn) and of a job page with
 * M runs (the per-state counts and the first rows), in headless chromium
 * (/usr/bin/chromium) against a real `muster server` child on SQLite. 200
 * systems are enrolled over the real API, then copied in the database to N
 * (enrolling 100,000 over HTTP takes most of an hour here); they are offline,
 * so the job's runs stay pending, which is what the page must draw. Each
 * round is a fresh page load; the figures are from navigation start, with
 * the page's JS heap after.
 */

interface Options {
  systems: number;
  runs: number;
  rounds: number;
}

function parseArgs(args: string[]): Options {
  const value = (name: string, def: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  return { systems: value('--systems', 100_000), runs: value('--runs', 10_000), rounds: value('--rounds', 3) };
}

/** Milliseconds from navigation until `ready` holds, and the page's used JS heap then. */
async function timeRender(page: Page, url: string, ready: (page: Page) => Promise<unknown>): Promise<{ ms: number; heapMiB: number }> {
  const start = Date.now();
  await page.goto(url, { waitUntil: 'commit' });
  await ready(page);
  const ms = Date.now() - start;
  const heap = (await page.evaluate('performance.memory ? performance.memory.usedJSHeapSize : 0')) as number;
  return { ms, heapMiB: heap / 2 ** 20 };
}

/** Milliseconds from scrolling the job page's runs to the bottom until the last run's row is drawn (its pages fetched in turn). */
async function timeScrollToEnd(page: Page, runs: number): Promise<number> {
  const rows = page.getByTestId('runs-rows');
  const start = Date.now();
  await rows.evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await rows.locator(`[aria-rowindex="${runs + 1}"][data-testid]`).waitFor({ timeout: 300_000 });
  return Date.now() - start;
}

function summary(label: string, figures: Array<{ ms: number; heapMiB: number }>): string {
  const ms = figures.map((f) => f.ms).sort((a, b) => a - b);
  const heap = Math.max(...figures.map((f) => f.heapMiB));
  return `${label}: first useful render ${ms.join(', ')} ms (median ${ms[Math.floor(ms.length / 2)]}), JS heap up to ${heap.toFixed(0)} MiB`;
}

export async function runConsoleBench(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const server = await startBenchServer('sqlite');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-dev-shm-usage', '--enable-precise-memory-info'],
  });
  try {
    const started = Date.now();
    await enrollSystems(server.url, server.enrollmentKey, Math.min(200, o.systems), 32, () => {});
    const ids = cloneSystems(server.dataDir, o.systems);
    process.stderr.write(`${ids.length} systems in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    const launch = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'true', targets: { system_ids: ids.slice(0, o.runs) } }),
    });
    const launched = (await launch.json()) as { job: { id: string } };
    if (launch.status !== 201) throw new Error(`launch failed: ${launch.status} ${JSON.stringify(launched)}`);
    // The API alone, for comparison: the page asks this once, then sorts and draws.
    const apiStarted = Date.now();
    const listed = await fetch(`${server.url}/v1/systems`, { headers: { authorization: `Bearer ${server.adminKey}` } });
    const bytes = (await listed.arrayBuffer()).byteLength;
    process.stdout.write(
      `GET /v1/systems (${o.systems.toLocaleString('en-US')} systems): ${Date.now() - apiStarted} ms, ${(bytes / 2 ** 20).toFixed(1)} MiB\n`,
    );
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(`sessionStorage.setItem('muster.apiKey', ${JSON.stringify(server.adminKey)})`);
    const page = await context.newPage();
    const systemsFigures = [];
    const jobFigures = [];
    const scrollFigures: number[] = [];
    const count = o.systems.toLocaleString('en-US');
    for (let i = 0; i < o.rounds; i++) {
      systemsFigures.push(
        await timeRender(page, `${server.url}/console/systems`, async (p) => {
          await p.getByText(`${count} systems`).waitFor({ timeout: 300_000 });
          await p.getByTestId('systems-rows').getByRole('row').first().waitFor({ timeout: 300_000 });
        }),
      );
      jobFigures.push(
        await timeRender(page, `${server.url}/console/jobs/${launched.job.id}`, async (p) => {
          await p
            .getByTestId('count-all')
            .filter({ hasText: String(o.runs) })
            .waitFor({ timeout: 300_000 });
          await p.locator('.runs .tbody [role=row]').first().waitFor({ timeout: 300_000 });
        }),
      );
      scrollFigures.push(await timeScrollToEnd(page, o.runs));
    }
    process.stdout.write(`${summary(`systems page, ${count} systems`, systemsFigures)}\n`);
    process.stdout.write(`${summary(`job page, ${o.runs.toLocaleString('en-US')} runs`, jobFigures)}\n`);
    process.stdout.write(`job page, scrolled to the end at once: last row drawn after ${scrollFigures.join(', ')} ms\n`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

if (process.argv[1]?.endsWith('console.js')) await runConsoleBench(process.argv.slice(2));
