import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/core.js';
import { DATABASES, openMigrated, type TestDatabase } from '../../../test/support/databases.js';
import { createStores, type Database } from '../../store/index.js';
import type { Actor } from '../access/index.js';
import { newId } from '../ids.js';
import { JobService } from '../jobs/index.js';
import { ScriptService } from './index.js';

interface Fixture {
  scripts: ScriptService;
  clock: FakeClock;
  database: Database;
  test: TestDatabase;
  organization(role: Actor['role']): Promise<Actor>;
  close(): Promise<void>;
}

/** A ScriptService over a fresh migrated database; actors are built directly, as the key service would. */
async function scriptFixture(name: 'sqlite' | 'postgres'): Promise<Fixture> {
  const { database, test } = await openMigrated(name);
  const clock = new FakeClock();
  const stores = createStores(database);
  const limits = { scriptBytes: 1024, outputBytes: 1024 };
  const jobs = new JobService(stores.jobs, stores.systems, stores.audit, { runsCreated: () => {}, cancelRuns: () => {} }, clock, limits);
  const scripts = new ScriptService(stores.scripts, stores.audit, clock, limits, jobs);
  const organizations = stores.organizations;
  return {
    scripts,
    clock,
    database,
    test,
    async organization(role) {
      const id = newId();
      await organizations.insertOrganization({ id, slug: `org-${id}`, name: 'Org', createdAt: clock.now().toISOString() });
      return { organizationId: id, role, label: `test:${role}` };
    },
    close: async () => {
      await database.close();
      await test.drop();
    },
  };
}

describe.each(DATABASES)('scripts on $name', ({ name, skip }) => {
  let f: Fixture;
  let admin: Actor;
  beforeAll(async () => {
    if (skip) return;
    f = await scriptFixture(name);
    admin = await f.organization('admin');
  });
  afterAll(async () => f?.close());

  it.skipIf(skip)('creates with defaults, reads by id and by name, lists', async () => {
    const s = await f.scripts.create(admin, { name: 'uptime', content: 'uptime' });
    expect(s).toMatchObject({
      name: 'uptime',
      shell: 'bash',
      runAs: null,
      timeoutS: 120,
      ttlS: 3600,
      createdBy: 'test:admin',
      defaultTargets: { systemIds: [], groupIds: [], selector: null },
      createdAt: f.clock.now().toISOString(),
    });
    expect(await f.scripts.get(admin, s.id)).toEqual(s);
    expect(await f.scripts.get(admin, 'uptime')).toEqual(s);
    expect((await f.scripts.list(admin)).map((x) => x.id)).toContain(s.id);
  });

  it.skipIf(skip)('keeps every field through the database', async () => {
    const input = {
      name: 'full',
      content: 'print(1)',
      shell: 'python3',
      run_as: 'deploy',
      timeout_s: 30,
      ttl_s: 604_800,
      default_targets: { system_ids: ['a'.repeat(24)], group_ids: ['web'], selector: 'tag:web' },
    };
    const s = await f.scripts.create(admin, input);
    expect(await f.scripts.get(admin, s.id)).toMatchObject({
      shell: 'python3',
      runAs: 'deploy',
      timeoutS: 30,
      ttlS: 604_800,
      defaultTargets: { systemIds: ['a'.repeat(24)], groupIds: ['web'], selector: 'tag:web' },
    });
  });

  it.skipIf(skip)('updates only the fields given', async () => {
    const s = await f.scripts.create(admin, { name: 'patch-me', content: 'echo 1', shell: 'sh', run_as: 'root', timeout_s: 10 });
    f.clock.advance(1000);
    const u = await f.scripts.update(admin, s.id, { content: 'echo 2', run_as: null });
    expect(u).toMatchObject({ name: 'patch-me', content: 'echo 2', shell: 'sh', runAs: null, timeoutS: 10, ttlS: 3600, createdAt: s.createdAt });
    expect(u.updatedAt).not.toBe(s.updatedAt);
    expect(await f.scripts.get(admin, s.id)).toEqual(u);
    const renamed = await f.scripts.update(admin, s.id, { name: 'patched' });
    expect(renamed.content).toBe('echo 2');
    await expect(f.scripts.get(admin, 'patch-me')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it.skipIf(skip)('names are unique per organization, on create and on rename', async () => {
    await f.scripts.create(admin, { name: 'dup', content: 'true' });
    await expect(f.scripts.create(admin, { name: 'dup', content: 'false' })).rejects.toMatchObject({ code: 'CONFLICT', field: 'name' });
    const other = await f.scripts.create(admin, { name: 'other', content: 'true' });
    await expect(f.scripts.update(admin, other.id, { name: 'dup' })).rejects.toMatchObject({ code: 'CONFLICT', field: 'name' });
    expect((await f.scripts.update(admin, other.id, { name: 'other' })).name).toBe('other');
    const elsewhere = await f.organization('operator');
    expect((await f.scripts.create(elsewhere, { name: 'dup', content: 'true' })).name).toBe('dup');
  });

  it.skipIf(skip)('deletes; a deleted script is gone', async () => {
    const s = await f.scripts.create(admin, { name: 'doomed', content: 'true' });
    await f.scripts.remove(admin, s.id);
    await expect(f.scripts.get(admin, s.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(f.scripts.remove(admin, s.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(f.scripts.update(admin, s.id, { content: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(f.scripts.remove(admin, 'not-an-id')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it.skipIf(skip)('rejects bad input naming the field', async () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ content: 'x' }, 'name'],
      [{ name: 'n'.repeat(101), content: 'x' }, 'name'],
      [{ name: 'n' }, 'content'],
      [{ name: 'n', content: 'x'.repeat(1025) }, 'content'],
      [{ name: 'n', content: 'x', shell: 'fish' }, 'shell'],
      [{ name: 'n', content: 'x', run_as: 'Root Admin' }, 'run_as'],
      [{ name: 'n', content: 'x', timeout_s: 0 }, 'timeout_s'],
      [{ name: 'n', content: 'x', ttl_s: 604_801 }, 'ttl_s'],
      [{ name: 'n', content: 'x', ttl_s: 1.5 }, 'ttl_s'],
      [{ name: 'n', content: 'x', default_targets: [] }, 'default_targets'],
      [{ name: 'n', content: 'x', default_targets: { system_ids: 'a' } }, 'default_targets.system_ids'],
      [{ name: 'n', content: 'x', default_targets: { group_ids: ['ok', 7] } }, 'default_targets.group_ids[1]'],
      [{ name: 'n', content: 'x', default_targets: { system_ids: Array(10_001).fill('a') } }, 'default_targets.system_ids'],
      [{ name: 'n', content: 'x', default_targets: { selector: 'x'.repeat(4097) } }, 'default_targets.selector'],
      [{ name: 'n', content: 'x', default_targets: { all: true } }, 'default_targets.all'],
    ];
    for (const [input, field] of bad) {
      await expect(f.scripts.create(admin, input), field).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field });
    }
    const s = await f.scripts.create(admin, { name: 'valid', content: 'true' });
    await expect(f.scripts.update(admin, s.id, { shell: 'fish' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'shell' });
    await expect(f.scripts.update(admin, s.id, { content: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'content' });
  });

  it.skipIf(skip)('viewers read, operators write', async () => {
    const viewer: Actor = { ...admin, role: 'viewer', label: 'test:viewer' };
    const operator: Actor = { ...admin, role: 'operator', label: 'test:operator' };
    const s = await f.scripts.create(operator, { name: 'by-operator', content: 'true' });
    expect((await f.scripts.get(viewer, s.id)).id).toBe(s.id);
    expect((await f.scripts.list(viewer)).length).toBeGreaterThan(0);
    await expect(f.scripts.create(viewer, { name: 'nope', content: 'true' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(f.scripts.update(viewer, s.id, { content: 'x' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(f.scripts.remove(viewer, s.id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await f.scripts.update(operator, s.id, { content: 'false' });
    await f.scripts.remove(operator, s.id);
  });

  it.skipIf(skip)("another organization's scripts do not exist", async () => {
    const s = await f.scripts.create(admin, { name: 'private', content: 'true' });
    const other = await f.organization('admin');
    expect(await f.scripts.list(other)).toEqual([]);
    await expect(f.scripts.get(other, s.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(f.scripts.get(other, 'private')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(f.scripts.update(other, s.id, { content: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(f.scripts.remove(other, s.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await f.scripts.get(admin, s.id)).content).toBe('true');
  });

  it.skipIf(skip)('writes an audit event for every mutation', async () => {
    const s = await f.scripts.create(admin, { name: 'audited', content: 'true' });
    await f.scripts.update(admin, s.id, { timeout_s: 5 });
    await f.scripts.remove(admin, s.id);
    const rows = await f.database.db.selectFrom('audit_events').selectAll().where('target_id', '=', s.id).execute();
    expect(rows.map((r) => r.action).sort()).toEqual(['script.create', 'script.delete', 'script.update']);
    expect(rows.every((r) => r.actor === 'test:admin' && r.organization_id === admin.organizationId)).toBe(true);
  });
});
