import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreFixture, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import { API_KEY_CACHE_MS } from './index.js';

describe.each(DATABASES)('keys and organizations on $name', ({ name, skip }) => {
  let f: CoreFixture;
  beforeAll(async () => {
    if (!skip) f = await coreFixture(name);
  });
  afterAll(async () => f?.close());

  it.skipIf(skip)('bootstraps once: a second bootstrap keeps the existing keys', async () => {
    const again = await f.core.organizations.bootstrap({ apiKey: 'x'.repeat(32) });
    expect(again.created).toBeUndefined();
    expect(again.organization.id).toBe(f.admin.organizationId);
    await expect(f.core.keys.authenticate('x'.repeat(32))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it.skipIf(skip)('stores only hashes and authenticates by the secret', async () => {
    const { key, secret } = await f.core.keys.createApiKey(f.admin, { name: 'ci', role: 'viewer' });
    expect(secret).toMatch(/^mk_/);
    const rows = await f.database.db.selectFrom('api_keys').selectAll().where('id', '=', key.id).execute();
    expect(JSON.stringify(rows)).not.toContain(secret);
    const actor = await f.core.keys.authenticate(secret);
    expect(actor).toMatchObject({ organizationId: f.admin.organizationId, role: 'viewer' });
  });

  it.skipIf(skip)('revoked keys stop working; roles are enforced', async () => {
    const { key, secret } = await f.core.keys.createApiKey(f.admin, { name: 'op', role: 'operator' });
    const operator = await f.core.keys.authenticate(secret);
    await expect(f.core.keys.createApiKey(operator, { name: 'x', role: 'admin' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await f.core.keys.revokeApiKey(f.admin, key.id);
    await expect(f.core.keys.authenticate(secret)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(f.core.keys.revokeApiKey(f.admin, key.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it.skipIf(skip)('trusts a verified key for API_KEY_CACHE_MS: a revocation made elsewhere (another replica) takes hold within it', async () => {
    const { key, secret } = await f.core.keys.createApiKey(f.admin, { name: 'replica', role: 'viewer' });
    await f.core.keys.authenticate(secret);
    // Revoked straight in the database, as another replica's revocation would be.
    await f.database.db.updateTable('api_keys').set({ revoked_at: f.clock.now().toISOString() }).where('id', '=', key.id).execute();
    await expect(f.core.keys.authenticate(secret)).resolves.toMatchObject({ keyId: key.id });
    f.clock.advance(API_KEY_CACHE_MS + 1);
    await expect(f.core.keys.authenticate(secret)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    // Nor is a refused key remembered as good later.
    await expect(f.core.keys.authenticate(secret)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it.skipIf(skip)('rejects bad input naming the field', async () => {
    await expect(f.core.keys.createApiKey(f.admin, { name: 'x', role: 'root' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'role' });
    await expect(f.core.keys.createEnrollmentKey(f.admin, { name: 'x', tags: ['ok', 'no\ttabs'] })).rejects.toMatchObject({ field: 'tags[1]' });
  });

  it.skipIf(skip)('organizations never see each other', async () => {
    const { organization, apiKey } = await f.core.organizations.create(f.admin, { name: 'Other', slug: 'other' });
    const other = await f.core.keys.authenticate(apiKey);
    expect(other.organizationId).toBe(organization.id);
    const mine = await f.core.keys.listApiKeys(f.admin);
    const theirs = await f.core.keys.listApiKeys(other);
    expect(theirs.map((k) => k.id)).not.toContain(mine[0]!.id);
    await expect(f.core.keys.revokeApiKey(other, mine[0]!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(f.core.organizations.create(other, { name: 'Nested', slug: 'nested' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(f.core.organizations.create(f.admin, { name: 'Dup', slug: 'other' })).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
