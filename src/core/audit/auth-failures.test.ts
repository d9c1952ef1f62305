import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/core.js';
import { openMigrated, type TestDatabase } from '../../../test/support/databases.js';
import { createStores, type Database } from '../../store/index.js';
import { authFailureClaim, AuthFailureRecorder, refusedCredential, type AuditStore, type AuthFailure } from './index.js';

describe('auth.failed events', () => {
  let database: Database;
  let test: TestDatabase;
  let store: AuditStore;
  const clock = new FakeClock();
  const logged: Array<{ message: string; fields: Record<string, unknown> }> = [];
  const log = (message: string, fields: Record<string, unknown>) => void logged.push({ message, fields });
  const failure = (sourceIp: string, organizationId?: string): AuthFailure => ({
    method: 'GET',
    route: '/v1/systems',
    reason: 'the API key is not valid',
    requestId: `r-${Math.random()}`,
    sourceIp,
    ...(organizationId ? { claim: { actor: 'api_key:k1', organizationId, verified: true, reason: 'the API key is revoked' } } : {}),
  });
  const rows = async (organizationId: string) => store.listEvents(organizationId, { action: 'auth.failed' }, 1000);

  beforeAll(async () => {
    ({ database, test } = await openMigrated('sqlite'));
    store = createStores(database).audit;
  });
  afterAll(async () => {
    await test.drop();
  });

  it('carries the claim on the error, not in what the client is told', () => {
    const err = refusedCredential('the API key is not valid', { actor: 'api_key:k1', organizationId: 'o1', verified: true, reason: 'revoked' });
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED', message: 'the API key is not valid' });
    expect(authFailureClaim(err)).toMatchObject({ organizationId: 'o1' });
    expect(authFailureClaim(new Error('x'))).toBeUndefined();
  });

  it("writes the claimed organization's event, and only a log line when no organization is known", async () => {
    const recorder = new AuthFailureRecorder(store, clock, log);
    await recorder.record(failure('198.51.100.1', 'org-1'));
    await recorder.record(failure('198.51.100.1'));
    const [event] = await rows('org-1');
    expect(event).toMatchObject({
      actor: 'api_key:k1',
      targetType: 'route',
      targetId: 'GET /v1/systems',
      sourceIp: '198.51.100.1',
      details: { reason: 'the API key is revoked' },
    });
    expect(logged.at(-1)).toMatchObject({ message: 'auth.failed', fields: { route: '/v1/systems', source_ip: '198.51.100.1', claimed: null } });
  });

  it('bounds a flood per address and window, and says how many it left out', async () => {
    const recorder = new AuthFailureRecorder(store, clock, log, { perAddress: 3, windowMs: 60_000 });
    for (let i = 0; i < 10; i++) await recorder.record(failure('192.0.2.7', 'org-flood'));
    // Another address is not held back by the first one's flood.
    await recorder.record(failure('192.0.2.8', 'org-flood'));
    expect(await rows('org-flood')).toHaveLength(4);
    expect(logged.filter((l) => l.message.includes('suppressed') && l.fields.source_ip === '192.0.2.7')).toHaveLength(1);
    clock.advance(60_000);
    await recorder.record(failure('192.0.2.7', 'org-flood'));
    const [latest] = await rows('org-flood');
    expect(latest).toMatchObject({ sourceIp: '192.0.2.7', details: { suppressed: 7 } });
  });

  it('never fails its caller when the write fails', async () => {
    const recorder = new AuthFailureRecorder(store, clock, log);
    await database.close();
    await expect(recorder.record(failure('203.0.113.1', 'org-1'))).resolves.toBeUndefined();
    expect(logged.at(-1)).toMatchObject({ message: 'could not write an auth.failed audit event' });
  });
});
