import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../src/config/server.js';
import { signTrigger } from '../src/core/commands/index.js';
import { newSecretKey, secretKeyId } from '../src/lib/secret-box.js';
import { startServer, type RunningServer } from '../src/server.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { FakeAgent } from './support/fake-agent.js';
import { muster } from './support/processes.js';
import { call } from './support/server.js';

const ADMIN = `mk_test_${randomBytes(16).toString('hex')}`;
const ENROLL = `mek_test_${randomBytes(16).toString('hex')}`;

describe.each(DATABASES)('trigger secrets at rest on $name', ({ name, skip }) => {
  const open: Array<{ db: TestDatabase; server?: RunningServer }> = [];
  afterEach(async () => {
    for (const o of open.splice(0)) {
      await o.server?.stop();
      await o.db.drop();
    }
  });

  async function fresh() {
    const db = await createTestDatabase(name);
    const slot: { db: TestDatabase; server?: RunningServer } = { db };
    open.push(slot);
    const boot = async (extra: Record<string, unknown> = {}) => {
      await slot.server?.stop();
      slot.server = undefined;
      const config = loadServerConfig(
        {
          listen: '127.0.0.1:0',
          data_dir: db.dataDir,
          database_url: db.url,
          log_level: 'silent',
          bootstrap_api_key: ADMIN,
          bootstrap_enrollment_key: ENROLL,
          ...extra,
        },
        {},
      );
      slot.server = await startServer(config);
      return slot.server.url;
    };
    /** The triggers table as the database holds it, read past the server. */
    const stored = async () => {
      const database = db.open();
      try {
        return await database.db.selectFrom('triggers').select(['name', 'secret']).execute();
      } finally {
        await database.close();
      }
    };
    return { db, boot, stored, stop: async () => (await slot.server?.stop(), (slot.server = undefined)) };
  }

  /** A command bound to an enrolled (offline) system, with a trigger that has a secret. */
  async function triggerWithSecret(url: string, trigger: string): Promise<string> {
    const system = await FakeAgent.enroll(url, ENROLL);
    expect(
      (
        await call(url, ADMIN, 'POST', '/v1/commands', {
          name: trigger,
          content: 'echo hi',
          launch_type: 'trigger',
          trigger,
          default_targets: { system_ids: [system.systemId] },
        })
      ).status,
    ).toBe(201);
    return (await call(url, ADMIN, 'POST', '/v1/triggers', { name: trigger, secret: true })).body.secret;
  }

  const fire = (url: string, trigger: string, secret: string) => {
    const body = JSON.stringify({ alert: randomBytes(4).toString('hex') });
    const t = Math.floor(Date.now() / 1000);
    return call(url, undefined, 'POST', `/api/command/trigger/${trigger}`, body, {
      'content-type': 'application/json',
      'x-muster-signature': `t=${t},v1=${signTrigger(secret, t, body)}`,
    });
  };

  it.skipIf(skip)('stores a new or rotated secret sealed, never as its text, and a call signed with it still fires', async () => {
    const s = await fresh();
    const url = await s.boot();
    const secret = await triggerWithSecret(url, 'disk-full');
    const [row] = await s.stored();
    expect(row!.secret).toMatch(/^sealed:v1:[0-9a-f]{12}:/);
    expect(row!.secret).not.toContain(secret);
    expect(row!.secret).not.toContain(secret.slice(4));
    const fired = await fire(url, 'disk-full', secret);
    expect(fired.status).toBe(200);
    expect(fired.body.jobs).toHaveLength(1);

    const rotated = (await call(url, ADMIN, 'POST', '/v1/triggers/disk-full/rotate-secret')).body.secret;
    const [after] = await s.stored();
    expect(after!.secret).not.toContain(rotated.slice(4));
    expect((await fire(url, 'disk-full', rotated)).status).toBe(200);
    expect((await fire(url, 'disk-full', secret)).status).toBe(401);
  });

  it.skipIf(skip)('seals a secret stored in plain text before sealing existed at the next start, and it still verifies', async () => {
    const s = await fresh();
    const url = await s.boot();
    await triggerWithSecret(url, 'legacy');
    await s.stop();
    const plain = `mts_${randomBytes(24).toString('hex')}`;
    const database = s.db.open();
    await database.db.updateTable('triggers').set({ secret: plain }).where('name', '=', 'legacy').execute();
    await database.close();

    const again = await s.boot();
    const [row] = await s.stored();
    expect(row!.secret).toMatch(/^sealed:v1:/);
    expect(row!.secret).not.toContain(plain.slice(4));
    expect((await fire(again, 'legacy', plain)).status).toBe(200);
  });

  it.skipIf(skip)('refuses to start with another MUSTER_SECRET_KEY, naming both keys; with the old one as previous it starts and re-seals', async () => {
    const s = await fresh();
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const url = await s.boot({ secret_key: a.toString('base64') });
    const secret = await triggerWithSecret(url, 'shared');
    await s.stop();

    await expect(s.boot({ secret_key: b.toString('hex') })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining(`sealed with key ${secretKeyId(a)}, and this server has ${secretKeyId(b)}`),
    });
    const rotated = await s.boot({ secret_key: b.toString('hex'), secret_key_previous: a.toString('base64') });
    expect((await s.stored())[0]!.secret).toMatch(new RegExp(`^sealed:v1:${secretKeyId(b)}:`));
    expect((await fire(rotated, 'shared', secret)).status).toBe(200);
    await s.stop();
    // Every secret moved: the new key alone is enough now.
    const alone = await s.boot({ secret_key: b.toString('hex') });
    expect((await fire(alone, 'shared', secret)).status).toBe(200);
  });

  it.skipIf(skip)('`muster server --rotate-secret-key` re-seals with a new key file and drops the old key', async () => {
    const s = await fresh();
    const url = await s.boot();
    const secret = await triggerWithSecret(url, 'rotate-me');
    await s.stop();
    const keyFile = join(s.db.dataDir, 'secret-key');
    const before = readFileSync(keyFile, 'utf8');
    const where = ['--data-dir', s.db.dataDir, ...(s.db.url ? ['--database-url', s.db.url] : [])];

    const rotated = await muster(['server', '--rotate-secret-key', ...where], { MUSTER_LOG_LEVEL: 'silent' });
    expect(rotated.stderr).toBe('');
    expect(rotated.code).toBe(0);
    const after = readFileSync(keyFile, 'utf8');
    expect(after).not.toBe(before);
    expect(rotated.stdout).toBe(
      `re-sealed 1 trigger secret(s): key ${secretKeyId(Buffer.from(before.trim(), 'base64'))} → ${secretKeyId(Buffer.from(after.trim(), 'base64'))}\n`,
    );
    expect(existsSync(join(s.db.dataDir, 'secret-key.previous'))).toBe(false);
    expect((await s.stored())[0]!.secret).toMatch(new RegExp(`^sealed:v1:${secretKeyId(Buffer.from(after.trim(), 'base64'))}:`));
    expect((await fire(await s.boot(), 'rotate-me', secret)).status).toBe(200);

    const configured = await muster(['server', '--rotate-secret-key', ...where], { MUSTER_SECRET_KEY: randomBytes(32).toString('hex') });
    expect(configured.code).toBe(2);
    expect(configured.stderr).toMatch(/MUSTER_SECRET_KEY_PREVIOUS/);
  });

  it.skipIf(skip)('finishes a rotation that stopped after the key file was replaced, at the next start', async () => {
    const s = await fresh();
    const url = await s.boot();
    const secret = await triggerWithSecret(url, 'half-done');
    await s.stop();
    // Where --rotate-secret-key would be if it were killed after swapping the files: old key kept aside, new key in place.
    const keyFile = join(s.db.dataDir, 'secret-key');
    writeFileSync(join(s.db.dataDir, 'secret-key.previous'), readFileSync(keyFile), { mode: 0o600 });
    const fresher = newSecretKey();
    writeFileSync(keyFile, `${fresher}\n`);

    const again = await s.boot();
    expect((await s.stored())[0]!.secret).toMatch(new RegExp(`^sealed:v1:${secretKeyId(Buffer.from(fresher, 'base64'))}:`));
    expect(existsSync(join(s.db.dataDir, 'secret-key.previous'))).toBe(false);
    expect((await fire(again, 'half-done', secret)).status).toBe(200);
  });

  it.skipIf(skip)('exits 2 naming the key when MUSTER_SECRET_KEY or the key file is not a key', async () => {
    const s = await fresh();
    const where = ['--listen', '127.0.0.1:0', '--data-dir', s.db.dataDir, ...(s.db.url ? ['--database-url', s.db.url] : [])];
    const bad = await muster(['server', ...where], { MUSTER_SECRET_KEY: 'not-a-key' });
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('invalid config secret_key')]);
    writeFileSync(join(s.db.dataDir, 'secret-key'), 'garbage\n', { mode: 0o600 });
    const file = await muster(['server', ...where], { MUSTER_LOG_LEVEL: 'silent' });
    expect([file.code, file.stderr]).toEqual([2, expect.stringContaining(`line 1 of ${join(s.db.dataDir, 'secret-key')}: a secret key is 64 hex digits`)]);
  });
});
