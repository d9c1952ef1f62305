#!/usr/bin/env node
// The one executable. Built code lives in dist/; `npm run build` makes it.
import('../dist/src/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/main.js')) {
    process.stderr.write('muster is not built yet: run `npm run build` (or `npm start`) first\n');
    process.exit(1);
  }
  throw err;
});
