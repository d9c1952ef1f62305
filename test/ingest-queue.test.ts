import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidV7 } from '../src/core/ids.js';
import { IngestWorkers, type IngestCommandRecord } from '../src/core/ingest/index.js';
import { createStores, discardFiles } from '../src/store/index.js';
import { coreFixture, type CoreFixture } from './support/core.js';
import { DATABASES } from './support/databases.js';

const facts = (certname: string, ts: string, values: Record<string, unknown>) =>
  JSON.stringify({ certname, environment: 'production', producer_timestamp: ts, producer: 'p', values });

/** Facts whose one value nests 100,000 maps deep: JSON.parse takes it, serializing it again overflows the stack. */
const deepFacts = (certname: string) =>
  `{"certname":"${certname}","environment":"production","producer_timestamp":"2026-01-01T00:00:00Z","producer":"p","values":{"v":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}}`;

describe.each(DATABASES)('ingest queue on $name', ({ name, skip }) => {
  let f: CoreFixture;
  let workers: IngestWorkers;
  const options = {
    count: 1,
    batch: 10,
    batchBytes: 1024 * 1024,
    leaseMs: 60_000,
    pollMs: 50,
    maxAttempts: 3,
    backoffMs: 1000,
    lingerMs: 0,
    keepDoneMs: 3_600_000,
  };

  beforeEach(async () => {
    if (skip) return;
    f = await coreFixture(name);
    const stores = createStores(f.database);
    workers = new IngestWorkers(stores.ingestQueue, f.core.ingest, f.clock, options, discardFiles(join(f.test.dataDir, 'mq')), (err) => {
      throw err;
    });
  });
  afterEach(async () => {
    if (!skip) await f.close();
  });

  const submitFacts = (certname: string, ts: string, values: Record<string, unknown>) =>
    f.core.ingest.submit(f.admin, { command: 'replace facts', version: 5, certname, payload: facts(certname, ts, values) });

  /** A command as the queue holds it, put there directly: one accepted before submission measured nesting. */
  const queued = (certname: string, payload: string): IngestCommandRecord => {
    const at = f.clock.now().toISOString();
    return {
      id: uuidV7(f.clock.now().getTime()),
      organizationId: f.admin.organizationId,
      command: 'replace facts',
      version: 5,
      certname,
      producerTimestamp: null,
      payload,
      receivedAt: at,
      state: 'queued',
      attempts: 0,
      availableAt: at,
      leaseUntil: null,
      error: null,
      diagnostics: null,
      processedAt: null,
    };
  };
  const stateOf = async (id: string) => {
    const r = await f.core.ingest.getCommand(f.admin, id);
    return [r.state, r.attempts];
  };

  it.skipIf(skip)('retries a payload whose processing overflows the stack, discards it after the last attempt, and never holds back its certname', async () => {
    const poison = queued('deep', deepFacts('deep'));
    await createStores(f.database).ingestQueue.enqueue([poison]);
    const behind = await submitFacts('deep', '2026-01-02T00:00:00Z', { v: 2 });
    // One batch claims both; the overflow fails only its own command.
    expect(await workers.runOnce()).toBe(2);
    expect(await stateOf(behind.id)).toEqual(['done', 1]);
    let rec = await f.core.ingest.getCommand(f.admin, poison.id);
    expect([rec.state, rec.attempts]).toEqual(['queued', 1]);
    expect(rec.error).toBe('attempt 1: RangeError: Maximum call stack size exceeded');
    // While it waits out its backoff, the next command for its certname goes through.
    const meanwhile = await submitFacts('deep', '2026-01-03T00:00:00Z', { v: 3 });
    expect(await workers.runOnce()).toBe(1);
    expect(await stateOf(meanwhile.id)).toEqual(['done', 1]);
    f.clock.advance(1000);
    await workers.runOnce();
    f.clock.advance(2000);
    await workers.runOnce();
    rec = await f.core.ingest.getCommand(f.admin, poison.id);
    expect([rec.state, rec.attempts, rec.error]).toEqual(['discarded', 3, 'RangeError: Maximum call stack size exceeded']);
    expect(rec.diagnostics).toMatch(/^Attempt 3 @ .*\nfailed 3 attempts; last: RangeError: Maximum call stack size exceeded/);
    expect((await f.core.ingest.listDiscarded(f.admin)).map((d) => d.id)).toEqual([poison.id]);
    const files = readdirSync(join(f.test.dataDir, 'mq', 'discarded', 'replace-facts'))
      .filter((n) => n.startsWith(poison.id))
      .sort();
    expect(files.map((n) => n.replace(/^[^_]+/, ''))).toEqual(['_facts_5_deep.json', '_facts_5_deep_err.txt']);
    expect(await workers.runOnce()).toBe(0);
    const [set] = await f.core.ingest.factsets(f.admin, 'deep');
    expect(set!.values).toEqual({ v: 3 });
  });

  it.skipIf(skip)('discards a command whose claims keep ending without an outcome, and processes the one behind it', async () => {
    const queue = createStores(f.database).ingestQueue;
    const stuck = await submitFacts('hang', '2026-01-01T00:00:00Z', { v: 1 });
    // Each claim is lost, as when the process holding it dies: the lease expires unanswered.
    for (let i = 0; i < options.maxAttempts; i++) {
      const now = f.clock.now();
      expect((await queue.claim({ limit: 1, now: now.toISOString(), leaseUntil: new Date(now.getTime() + 1000).toISOString() })).map((c) => c.id)).toEqual([
        stuck.id,
      ]);
      f.clock.advance(1001);
    }
    const behind = await submitFacts('hang', '2026-01-02T00:00:00Z', { v: 2 });
    expect(await workers.runOnce()).toBe(2);
    const rec = await f.core.ingest.getCommand(f.admin, stuck.id);
    expect([rec.state, rec.attempts]).toEqual(['discarded', 4]);
    expect(rec.error).toBe('processing did not finish in 3 attempts (the process stopped or hung while holding it); last error: none recorded');
    expect(await stateOf(behind.id)).toEqual(['done', 1]);
    const [set] = await f.core.ingest.factsets(f.admin, 'hang');
    expect(set!.values).toEqual({ v: 2 });
  });

  it.skipIf(skip)('keeps its claim loops running past a command whose processing throws', async () => {
    await createStores(f.database).ingestQueue.enqueue([queued('loop', deepFacts('loop'))]);
    const behind = await submitFacts('loop', '2026-01-02T00:00:00Z', { v: 2 });
    workers.start();
    try {
      expect(await f.core.ingest.waitFor(f.admin, behind.id, 10_000)).toEqual({ processed: true, timedOut: false });
      const after = await submitFacts('loop', '2026-01-03T00:00:00Z', { v: 3 });
      expect(await f.core.ingest.waitFor(f.admin, after.id, 10_000)).toEqual({ processed: true, timedOut: false });
    } finally {
      await workers.stop();
    }
    expect((await f.core.ingest.counts(f.admin)).queued).toBe(1);
  });

  it.skipIf(skip)('leases claims, holds one certname per lease, and reclaims expired leases', async () => {
    const queue = createStores(f.database).ingestQueue;
    const a1 = await submitFacts('a', '2026-01-01T00:00:00Z', {});
    await submitFacts('a', '2026-01-02T00:00:00Z', {});
    const b = await submitFacts('b', '2026-01-01T00:00:00Z', {});
    const now = f.clock.now();
    const lease = new Date(now.getTime() + 1000).toISOString();
    const first = await queue.claim({ limit: 1, now: now.toISOString(), leaseUntil: lease });
    expect(first.map((c) => c.id)).toEqual([a1.id]);
    expect(first[0]!.attempts).toBe(1);
    expect(first[0]!.state).toBe('processing');
    // The second "a" waits while the first holds its certname; "b" is free.
    const second = await queue.claim({ limit: 10, now: now.toISOString(), leaseUntil: lease });
    expect(second.map((c) => c.id)).toEqual([b.id]);
    expect(await queue.claim({ limit: 10, now: now.toISOString(), leaseUntil: lease })).toEqual([]);
    // Past the lease, both are claimable again (the crashed worker's and the waiting one).
    const later = new Date(now.getTime() + 2000).toISOString();
    const reclaimed = await queue.claim({ limit: 10, now: later, leaseUntil: new Date(now.getTime() + 5000).toISOString() });
    expect(reclaimed.map((c: IngestCommandRecord) => c.certname).sort()).toEqual(['a', 'a', 'b']);
    expect(reclaimed.find((c) => c.id === a1.id)!.attempts).toBe(2);
  });

  it.skipIf(skip)('claims no more payload bytes than asked, but always one command', async () => {
    const queue = createStores(f.database).ingestQueue;
    const big = { blob: 'x'.repeat(4000) };
    const ids = [];
    for (const c of ['n1', 'n2', 'n3', 'n4']) ids.push((await submitFacts(c, '2026-01-01T00:00:00Z', big)).id);
    const now = f.clock.now().toISOString();
    const lease = new Date(f.clock.now().getTime() + 60_000).toISOString();
    // Each payload is a little over 4,000 bytes: 9,000 bytes hold two of them.
    expect((await queue.claim({ limit: 10, now, leaseUntil: lease, maxBytes: 9000 })).map((c) => c.id).sort()).toEqual(ids.slice(0, 2).sort());
    expect((await queue.claim({ limit: 10, now, leaseUntil: lease, maxBytes: 100 })).map((c) => c.id)).toHaveLength(1);
    expect((await queue.claim({ limit: 10, now, leaseUntil: lease })).map((c) => c.id)).toHaveLength(1);
  });

  it.skipIf(skip)('applies one certname in producer-timestamp order: older facts arriving later change nothing', async () => {
    await submitFacts('web-1', '2026-01-02T00:00:00Z', { os: { family: 'Debian' } });
    await workers.runOnce();
    const old = await submitFacts('web-1', '2026-01-01T00:00:00Z', { os: { family: 'RedHat' } });
    await workers.runOnce();
    expect((await f.core.ingest.getCommand(f.admin, old.id)).state).toBe('done');
    const [set] = await f.core.ingest.factsets(f.admin, 'web-1');
    expect(set!.values).toEqual({ os: { family: 'Debian' } });
    expect(set!.producerTimestamp).toBe('2026-01-02T00:00:00.000Z');
  });

  it.skipIf(skip)('processes a batch with both orders of one certname in it', async () => {
    await submitFacts('x', '2026-01-03T00:00:00Z', { v: 3 });
    await submitFacts('x', '2026-01-01T00:00:00Z', { v: 1 });
    await submitFacts('y', '2026-01-01T00:00:00Z', { v: 1 });
    while ((await workers.runOnce()) > 0);
    const sets = await f.core.ingest.factsets(f.admin);
    expect(sets.map((s) => [s.certname, s.values])).toEqual([
      ['x', { v: 3 }],
      ['y', { v: 1 }],
    ]);
  });

  it.skipIf(skip)('sends a wire-format error to the dead letter office at once, with its files; retry and delete', async () => {
    const bad = JSON.stringify({ certname: 'c1', environment: 'production', producer_timestamp: '2026-01-01T00:00:00Z', values: {}, extra: 1 });
    const { id } = await f.core.ingest.submit(f.admin, { command: 'replace facts', version: 5, certname: 'c1', payload: bad });
    await workers.runOnce();
    const rec = await f.core.ingest.getCommand(f.admin, id);
    expect(rec.state).toBe('discarded');
    expect(rec.attempts).toBe(1);
    expect(rec.error).toMatch(/missing keys: producer.*|disallowed keys: extra/);
    expect(rec.diagnostics).toMatch(/^Attempt 1 @ /);
    const dir = join(f.test.dataDir, 'mq', 'discarded', 'replace-facts');
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(new RegExp(`^${id}-\\d+_facts_5_c1\\.json$`));
    expect(files[1]).toMatch(/_facts_5_c1_err\.txt$/);
    expect((await f.core.ingest.listDiscarded(f.admin)).map((d) => d.id)).toEqual([id]);
    await f.core.ingest.retryDiscarded(f.admin, id);
    expect((await f.core.ingest.getCommand(f.admin, id)).state).toBe('queued');
    await workers.runOnce();
    await f.core.ingest.deleteDiscarded(f.admin, id);
    await expect(f.core.ingest.getCommand(f.admin, id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(existsSync(dir)).toBe(true);
  });

  it.skipIf(skip)('retries a processing failure with backoff, then discards it after the last attempt', async () => {
    await sql`drop table ingest_catalog_inputs`.execute(f.database.db);
    const payload = JSON.stringify({ certname: 'c2', producer_timestamp: '2026-01-01T00:00:00Z', catalog_uuid: null, inputs: [['hiera', 'x']] });
    const { id } = await f.core.ingest.submit(f.admin, { command: 'replace catalog inputs', version: 1, certname: 'c2', payload });
    await workers.runOnce();
    let rec = await f.core.ingest.getCommand(f.admin, id);
    expect([rec.state, rec.attempts]).toEqual(['queued', 1]);
    expect(rec.error).toMatch(/^attempt 1: /);
    expect(await workers.runOnce()).toBe(0); // not due before its backoff
    f.clock.advance(1000);
    await workers.runOnce();
    f.clock.advance(2000);
    await workers.runOnce();
    rec = await f.core.ingest.getCommand(f.admin, id);
    expect([rec.state, rec.attempts]).toEqual(['discarded', 3]);
    expect(rec.diagnostics).toMatch(/failed 3 attempts/);
  });

  it.skipIf(skip)('blocks a waiter until its command is processed', async () => {
    const { id } = await submitFacts('w', '2026-01-01T00:00:00Z', {});
    const waiting = f.core.ingest.waitFor(f.admin, id, 5000);
    await workers.runOnce();
    expect(await waiting).toEqual({ processed: true, timedOut: false });
    const { id: id2 } = await submitFacts('w2', '2026-01-01T00:00:00Z', {});
    expect(await f.core.ingest.waitFor(f.admin, id2, 50)).toEqual({ processed: false, timedOut: true });
  });

  it.skipIf(skip)("takes the agent's own facts through the same queue (submitFacts)", async () => {
    const { id } = await f.core.ingest.submitFacts(
      f.admin.organizationId,
      'web-1',
      { os: { family: 'Debian' }, kernel: 'Linux' },
      new Date('2026-11-23T10:00:00Z'),
    );
    expect((await f.core.ingest.getCommand(f.admin, id)).command).toBe('replace facts');
    await workers.runOnce();
    const [set] = await f.core.ingest.factsets(f.admin, 'web-1');
    expect(set).toMatchObject({
      certname: 'web-1',
      producer: 'muster-agent',
      producerTimestamp: '2026-11-23T10:00:00.000Z',
      values: { os: { family: 'Debian' }, kernel: 'Linux' },
    });
  });

  it.skipIf(skip)('deletes processed commands after keepDoneMs, and keeps dead letters', async () => {
    const done = await submitFacts('p1', '2026-01-01T00:00:00Z', {});
    const bad = await f.core.ingest.submit(f.admin, { command: 'replace facts', version: 5, certname: 'p2', payload: JSON.stringify({ certname: 'p2' }) });
    await workers.runOnce();
    expect(await workers.prune()).toBe(0);
    f.clock.advance(3_600_001);
    expect(await workers.prune()).toBe(1);
    await expect(f.core.ingest.getCommand(f.admin, done.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await f.core.ingest.getCommand(f.admin, bad.id)).state).toBe('discarded');
  });

  it.skipIf(skip)('lets concurrent claimers take disjoint commands', async () => {
    for (let i = 0; i < 40; i++) await submitFacts(`n${i}`, '2026-01-01T00:00:00Z', {});
    const queue = createStores(f.database).ingestQueue;
    const now = f.clock.now().toISOString();
    const lease = new Date(f.clock.now().getTime() + 60_000).toISOString();
    const claims = await Promise.all([1, 2, 3, 4].map(() => queue.claim({ limit: 15, now, leaseUntil: lease })));
    const ids = claims.flat().map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(40);
  });
});
