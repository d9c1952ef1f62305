import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreFixture, FACTS, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';

/** An Ed25519 public key in SPKI PEM, as the agent writes it. */
function ed25519Pem(): string {
  return generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

describe.each(DATABASES)('enrollments in batches on $name', ({ name, skip }) => {
  let f: CoreFixture;
  beforeAll(async () => {
    if (skip) return;
    f = await coreFixture(name);
  });
  afterAll(async () => f?.close());

  it.skipIf(skip)('machines enrolling at once are each stored with their tags and audit event, and each answered after it', async () => {
    const keys = Array.from({ length: 200 }, () => ed25519Pem());
    const enrolled = await Promise.all(
      keys.map((public_key, i) => f.core.systems.enroll(f.enrollmentKey, { public_key, facts: { ...FACTS, hostname: `batch-${i}` }, tags: ['batch'] }, null)),
    );
    // Each answer comes after its commit: its system and audit event are there when it resolves.
    const ids = enrolled.map((s) => s.id);
    const rows = await f.database.db.selectFrom('systems').select(['id', 'public_key']).where('id', 'in', ids).execute();
    expect(new Map(rows.map((r) => [r.id, r.public_key]))).toEqual(new Map(enrolled.map((s, i) => [s.id, keys[i]])));
    const audited = await f.database.db
      .selectFrom('audit_events')
      .select('target_id')
      .where('action', '=', 'system.enroll')
      .where('target_id', 'in', ids)
      .execute();
    expect(audited.map((a) => a.target_id).sort()).toEqual([...ids].sort());
    const tagged = await f.database.db.selectFrom('system_tags').select('system_id').where('tag', '=', 'batch').execute();
    expect(tagged.map((t) => t.system_id).sort()).toEqual([...ids].sort());
  });

  it.skipIf(skip)('an RSA key, a weak one and a malformed Ed25519 one still go through the full check', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expect(f.core.systems.enroll(f.enrollmentKey, { public_key: rsa, facts: { ...FACTS, hostname: 'rsa' } }, null)).resolves.toMatchObject({
      publicKey: rsa,
    });
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expect(f.core.systems.enroll(f.enrollmentKey, { public_key: weak, facts: { ...FACTS, hostname: 'weak' } }, null)).rejects.toMatchObject({
      field: 'public_key',
    });
    // Not the fast path's form: the full check decides, and refuses it.
    const good = ed25519Pem();
    const body = good.split('\n')[1]!;
    const bad = good.replace(body, `${body.slice(0, 16)}!${body.slice(17)}`);
    await expect(f.core.systems.enroll(f.enrollmentKey, { public_key: bad, facts: { ...FACTS, hostname: 'bad' } }, null)).rejects.toMatchObject({
      field: 'public_key',
    });
  });
});
