import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../src/config/server.js';
import { looseEntries } from '../src/lib/private-files.js';
import { startServer, type RunningServer } from '../src/server.js';
import { discardFiles } from '../src/store/index.js';
import { call } from './support/server.js';

const mode = (path: string) => `0${(statSync(path).mode & 0o777).toString(8)}`;

describe('the data dir and its files are readable by their owner only', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function boot(dataDir: string, logger = pino({ level: 'silent' })): Promise<RunningServer> {
    const admin = `mk_test_${randomBytes(16).toString('hex')}`;
    const config = loadServerConfig(
      {
        listen: '127.0.0.1:0',
        data_dir: dataDir,
        log_level: 'silent',
        bootstrap_api_key: admin,
        bootstrap_enrollment_key: `mek_test_${randomBytes(16).toString('hex')}`,
      },
      {},
    );
    const server = await startServer(config, logger);
    cleanup.push(() => server.stop());
    // A write, so that the write-ahead log and its index exist.
    expect((await call(server.url, admin, 'POST', '/v1/triggers', { name: 'modes', secret: true })).status).toBe(201);
    return server;
  }

  function tempRoot(): string {
    const root = mkdtempSync(join(tmpdir(), 'muster-modes-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    return root;
  }

  it('creates a new data dir 0700 and the database, its -wal and -shm, key files and dead letters 0600, even under umask 000', async () => {
    const dataDir = join(tempRoot(), 'muster-data');
    const umask = process.umask(0);
    try {
      await boot(dataDir);
      await discardFiles(join(dataDir, 'mq')).write(
        {
          id: 'c1',
          organizationId: 'o',
          command: 'replace facts',
          version: 5,
          certname: 'web-1',
          producerTimestamp: null,
          payload: '{"values":{}}',
          receivedAt: new Date().toISOString(),
          state: 'discarded',
          attempts: 3,
          availableAt: new Date().toISOString(),
          leaseUntil: null,
          error: 'boom',
          diagnostics: null,
          processedAt: null,
        },
        'boom',
        'diagnostics',
        new Date().toISOString(),
      );
    } finally {
      process.umask(umask);
    }
    expect(mode(dataDir)).toBe('0700');
    for (const file of ['muster.db', 'muster.db-wal', 'muster.db-shm', 'secret-key', 'admin-api-key', 'enrollment-key'])
      expect([file, mode(join(dataDir, file))]).toEqual([file, '0600']);
    // Everything else in it too: the dead letter's folders and files included.
    expect(looseEntries(dataDir)).toEqual([]);
  });

  it('warns at start, as one structured log line naming each path and mode, when an existing data dir is looser', async () => {
    const dataDir = join(tempRoot(), 'shared');
    mkdirSync(dataDir, { mode: 0o755 });
    writeFileSync(join(dataDir, 'notes.txt'), 'x', { mode: 0o644 });
    const lines: Array<Record<string, any>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    await boot(dataDir, logger);
    const warning = lines.find((l) => l.level === 40 && Array.isArray(l.loose));
    expect(warning).toMatchObject({
      data_dir: dataDir,
      loose_count: 2,
      loose: [
        { path: dataDir, mode: '0755', kind: 'dir' },
        { path: join(dataDir, 'notes.txt'), mode: '0644', kind: 'file' },
      ],
      msg: expect.stringMatching(/others than its owner can read/),
    });
    // The server changes nothing it did not create; the files it creates are private all the same.
    expect(mode(dataDir)).toBe('0755');
    expect(mode(join(dataDir, 'muster.db'))).toBe('0600');
  });
});
