import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(`
import { appendFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
export async function load(url, ctx, next) { const r = await next(url, ctx); if (url.startsWith('file:')) { try { appendFileSync('/tmp/probe/loaded.txt', statSync(fileURLToPath(url)).size + ' ' + url + '\\n'); } catch {} } return r; }
`));
