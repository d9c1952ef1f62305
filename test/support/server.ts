import { randomBytes } from 'node:crypto';
import { loadServerConfig } from '../../src/config/server.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export interface TestServer {
  url: string;
  adminKey: string;
  enrollmentKey: string;
  db: TestDatabase;
  server: RunningServer;
  stop(): Promise<void>;
}

/** A real muster server in this process, on 127.0.0.1 with a free port, over a fresh database. */
export async function startTestServer(name: 'sqlite' | 'postgres', extra: Record<string, unknown> = {}): Promise<TestServer> {
  const db = await createTestDatabase(name);
  const adminKey = `mk_test_${randomBytes(16).toString('hex')}`;
  const enrollmentKey = `mek_test_${randomBytes(16).toString('hex')}`;
  const config = loadServerConfig(
    {
      listen: '127.0.0.1:0',
      data_dir: db.dataDir,
      database_url: db.url,
      log_level: 'silent',
      bootstrap_api_key: adminKey,
      bootstrap_enrollment_key: enrollmentKey,
      ...extra,
    },
    {},
  );
  const server = await startServer(config);
  return {
    url: server.url,
    adminKey,
    enrollmentKey,
    db,
    server,
    stop: async () => {
      await server.stop();
      await db.drop();
    },
  };
}

/** fetch against the test server with a key; returns status and parsed body. */
export async function call(
  base: string,
  key: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}
