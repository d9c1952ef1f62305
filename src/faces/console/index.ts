import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build` writes the console (vite.config.ts in web/): dist/console at the package root. */
const BUILT = join('dist', 'console');

/** The console's folder: from src/faces/console (tests) or dist/src/faces/console (the built server), the package root is 3 or 4 levels up. */
export function consoleAssets(from: string = import.meta.dirname): string | undefined {
  return [join(from, '..', '..', '..'), join(from, '..', '..', '..', '..')].map((root) => join(root, BUILT)).find((dir) => existsSync(join(dir, 'index.html')));
}

/**
 * The page's policy: scripts, styles and connections only from this server
 * (inline style attributes are allowed: the virtualised lists position rows
 * with them), no frames, no plugins.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/**
 * The web console: a single-page app built by Vite, served at `/` and under
 * `/console/` (where the BeyondTrust face sends web_console scripts). Its
 * hashed assets are cached for good; every other path under `/console/`
 * answers the page, whose router reads the path. The files are public like
 * /docs: the page asks for an API key and sends it to the native API only.
 */
export async function consoleRoutes(app: FastifyInstance, dir: string | null = consoleAssets() ?? null): Promise<void> {
  const hide = { schema: { hide: true } };
  if (!dir) {
    const missing = (_req: unknown, reply: FastifyReply) =>
      reply.status(503).type('text/plain; charset=utf-8').send('The web console is not built: run `npm run build`, then start the server again.\n');
    app.get('/', hide, missing);
    app.get('/console', hide, missing);
    app.get('/console/*', hide, missing);
    return;
  }
  const page = readFileSync(join(dir, 'index.html'));
  const sendPage = (_req: unknown, reply: FastifyReply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(page);
  await app.register(fastifyStatic, {
    root: join(dir, 'assets'),
    prefix: '/console/assets/',
    decorateReply: false,
    schemaHide: true,
    immutable: true,
    maxAge: '365d',
    index: false,
  });
  app.get('/', hide, sendPage);
  app.get('/console', hide, sendPage);
  app.get('/console/*', hide, sendPage);
}
