#!/usr/bin/env -S node --max-old-space-size=1024 --max-semi-space-size=4
// The one executable. Built code lives in dist/; `npm run build` makes it.
// The flags bound V8's heap: the old generation at 1 GiB, far above what a server needs (20,000 idle
// agents: 366-390 MB RSS in all), and below 2 GiB V8 grows it by 1.6x between collections instead of up
// to 4x; each half of the young generation at 4 MiB instead of 16 MiB. With the server's own
// heap growth setting (src/lib/heap-growth.ts), peak RSS under PuppetDB ingest is 118-131 MB instead
// of 135-167 MB, for 5-10 % more CPU (docs/benchmarks.md). Code that runs this file with `node`
// explicitly passes the same flags (src/lib/launcher.ts).
import('../dist/src/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/main.js')) {
    process.stderr.write('muster is not built yet: run `npm run build` (or `npm start`) first\n');
    process.exit(1);
  }
  throw err;
});
