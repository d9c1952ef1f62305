/**
 * `npm run bench [-- <name> [args…]]`: dispatches to one benchmark. With no
 * name, the default in-process suite (bench/default.ts). Each benchmark is its
 * own module, loaded only when asked for, exporting `run…Bench(args)`.
 */
type Bench = (args: string[]) => Promise<void>;

const BENCHES: Record<string, { file: string; load: () => Promise<Bench> }> = {
  console: { file: 'bench/console.ts', load: async () => (await import('./console.js')).runConsoleBench },
  'console-stream': { file: 'bench/console-stream.ts', load: async () => (await import('./console-stream.js')).runConsoleStreamBench },
  burst: { file: 'bench/burst.ts', load: async () => (await import('./burst.js')).runBurstBench },
  enroll: { file: 'bench/enroll.ts', load: async () => (await import('./enroll.js')).runEnrollBench },
  fanout: { file: 'bench/fanout.ts', load: async () => (await import('./fanout.js')).runFanoutBench },
  'session-echo': { file: 'bench/session-echo.ts', load: async () => (await import('./session-echo.js')).runSessionEchoBench },
  // bench/ingest.ts is written separately; until it lands, say so instead of crashing.
  ingest: { file: 'bench/ingest.ts', load: async () => ((await import(['.', 'ingest.js'].join('/'))) as { runIngestBench: Bench }).runIngestBench },
};

/** True when the benchmark's own module is missing (not one of its imports). */
function isMissingModule(err: unknown, file: string): boolean {
  const e = err as NodeJS.ErrnoException;
  const built = file.replace(/^bench\//, '').replace(/\.ts$/, '.js');
  // "Cannot find module '…/ingest.js' imported from …": the module itself, not something it imports.
  return e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(`/${built}' imported from`);
}

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'default') {
    const { runDefaultBench } = await import('./default.js');
    return runDefaultBench();
  }
  const bench = BENCHES[name];
  if (!bench) {
    process.stderr.write(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(', ')} (or none for the default suite)\n`);
    process.exitCode = 2;
    return;
  }
  let run: Bench;
  try {
    run = await bench.load();
  } catch (err) {
    if (!isMissingModule(err, bench.file)) throw err;
    process.stderr.write(`benchmark "${name}" is not available in this build: ${bench.file} is absent\n`);
    process.exitCode = 2;
    return;
  }
  await run(args);
}

await main(process.argv.slice(2));
