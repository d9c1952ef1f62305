import { chromium } from 'playwright-core';
import { startRealAgent, type RealAgent } from './real-agents.js';
import { startBenchServer } from './server-child.js';

/**
 * `npm run bench -- console-stream [--minutes 60] [--agents 4] [--lines-per-s 20]`
 *
 * The memory of the web console's job page while its runs stream output
 * without pause: real agents each run a script printing `--lines-per-s`
 * lines a second for `--minutes`, and headless chromium (/usr/bin/chromium)
 * keeps the job page open, with one run's output pane open too. Every minute
 * the page's JS heap after a garbage collection and its DOM node count are
 * read over the DevTools protocol (Performance.getMetrics); a table and the
 * growth from the first minute to the last are printed. The server keeps
 * streaming past its usual output cap (MUSTER_OUTPUT_MAX_BYTES raised), so
 * the page gets every line for the whole time.
 */
interface Options {
  minutes: number;
  agents: number;
  linesPerS: number;
}

function parseArgs(args: string[]): Options {
  const value = (name: string, def: number) => {
    const i = args.indexOf(name);
    const v = i >= 0 ? Number(args[i + 1]) : def;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
    return v;
  };
  return { minutes: value('--minutes', 60), agents: value('--agents', 4), linesPerS: value('--lines-per-s', 20) };
}

/** A script that prints `perS` lines a second (about 80 characters each) for `seconds`. */
function streamingScript(seconds: number, perS: number): string {
  return [
    `end=$(( $(date +%s) + ${Math.ceil(seconds)} )); i=0`,
    `while [ "$(date +%s)" -lt "$end" ]; do`,
    `  i=$((i+1)); echo "line $i from $MUSTER_SYSTEM_ID: the quick brown fox jumps over the lazy dog"`,
    `  sleep ${(1 / perS).toFixed(3)}`,
    'done',
  ].join('\n');
}

interface Sample {
  minute: number;
  heapMiB: number;
  nodes: number;
  /** Characters in the open output pane (its tail is bounded at 1 MiB). */
  paneChars: number;
}

export async function runConsoleStreamBench(args: string[]): Promise<void> {
  const o = parseArgs(args);
  // Live chunks stop past twice the output cap; raised so an hour of output all reaches the page.
  process.env.MUSTER_OUTPUT_MAX_BYTES = String(256 * 1024 * 1024);
  const server = await startBenchServer('sqlite');
  const agents: RealAgent[] = [];
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-dev-shm-usage', '--enable-precise-memory-info'],
  });
  try {
    for (let i = 0; i < o.agents; i++) agents.push(await startRealAgent(server.url, server.enrollmentKey));
    const headers = { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' };
    // Until every agent is connected, a launch would leave some runs waiting.
    for (let waited = 0; ; waited += 200) {
      const systems = (await (await fetch(`${server.url}/v1/systems`, { headers })).json()) as { items: Array<{ connected: boolean }> };
      if (systems.items.filter((s) => s.connected).length >= o.agents) break;
      if (waited > 30_000) throw new Error('the agents did not connect within 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = o.minutes * 60 + 30;
    const launch = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ content: streamingScript(seconds, o.linesPerS), shell: 'sh', timeout_s: seconds + 120, targets: { all: true } }),
    });
    const launched = (await launch.json()) as { job: { id: string } };
    if (launch.status !== 201) throw new Error(`launch failed: ${launch.status} ${JSON.stringify(launched)}`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(`sessionStorage.setItem('muster.apiKey', ${JSON.stringify(server.adminKey)})`);
    const page = await context.newPage();
    await page.goto(`${server.url}/console/jobs/${launched.job.id}`);
    await page.locator('.runs .tbody [role=row] button').first().click();
    await page.getByTestId('stdout').filter({ hasText: 'line ' }).waitFor({ timeout: 60_000 });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const sample = async (minute: number): Promise<Sample> => {
      await cdp.send('HeapProfiler.collectGarbage');
      const { metrics } = await cdp.send('Performance.getMetrics');
      const metric = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
      const paneChars = (await page.getByTestId('stdout').evaluate((el) => (el.textContent ?? '').length)) as number;
      return { minute, heapMiB: metric('JSHeapUsedSize') / 2 ** 20, nodes: metric('Nodes'), paneChars };
    };
    const samples: Sample[] = [await sample(0)];
    process.stdout.write(`streaming: ${o.agents} runs × ${o.linesPerS} lines/s for ${o.minutes} min\n`);
    process.stdout.write('minute  JS heap (MiB)  DOM nodes  output pane (chars)\n');
    const line = (s: Sample) =>
      `${String(s.minute).padStart(6)}  ${s.heapMiB.toFixed(1).padStart(13)}  ${String(s.nodes).padStart(9)}  ${String(s.paneChars).padStart(19)}\n`;
    process.stdout.write(line(samples[0]!));
    for (let minute = 1; minute <= o.minutes; minute++) {
      await new Promise((r) => setTimeout(r, 60_000));
      const s = await sample(minute);
      samples.push(s);
      process.stdout.write(line(s));
    }
    // Growth from the first minute (the page and its first output in place) to the last.
    const from = samples[Math.min(1, samples.length - 1)]!;
    const to = samples.at(-1)!;
    process.stdout.write(
      `growth, minute ${from.minute} to ${to.minute}: JS heap ${(to.heapMiB - from.heapMiB).toFixed(1)} MiB, DOM nodes ${to.nodes - from.nodes}\n`,
    );
  } finally {
    await browser.close();
    for (const a of agents) await a.stop();
    await server.stop();
  }
}

if (process.argv[1]?.endsWith('console-stream.js')) await runConsoleStreamBench(process.argv.slice(2));
