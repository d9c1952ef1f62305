#!/usr/bin/env -S node --max-old-space-size=1024
// The one executable. Built code lives in dist/; `npm run build` makes it.
// The flag caps V8's old generation at 1 GiB, far above what a server needs (20,000 idle agents:
// 366-390 MB RSS in all), and below 2 GiB V8 grows the heap by 1.6x between collections instead of up to
// 4x: peak RSS under ingest fell from 175-225 MB to 157-162 MB (docs/benchmarks.md). Code that runs
// this file with `node` explicitly passes the same flags (src/lib/launcher.ts).
import('../dist/src/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/main.js')) {
    process.stderr.write('muster is not built yet: run `npm run build` (or `npm start`) first\n');
    process.exit(1);
  }
  throw err;
});
