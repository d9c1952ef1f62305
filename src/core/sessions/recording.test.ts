import { afterEach, describe, expect, it } from 'vitest';
import { DATABASES, openMigrated } from '../../../test/support/databases.js';
import { createStores, type Database } from '../../store/index.js';
import { Recording } from './recording.js';

describe.each(DATABASES)('session recordings on $name', ({ name, skip }) => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  async function store(): Promise<{ database: Database; sessions: ReturnType<typeof createStores>['sessions'] }> {
    const { database, test } = await openMigrated(name);
    close = async () => (await database.close(), await test.drop());
    return { database, sessions: createStores(database).sessions };
  }

  it.skipIf(skip)('keeps a character split across two reads whole, times events from the start, and records input only when asked', async () => {
    const { sessions } = await store();
    let now = 1_000;
    const errors: unknown[] = [];
    const rec = new Recording(
      sessions,
      's1',
      1_000,
      false,
      (e) => errors.push(e),
      () => now,
    );
    const euro = Buffer.from('€ ok\r\n');
    rec.output(euro.subarray(0, 2));
    now = 1_250;
    rec.output(euro.subarray(2));
    rec.input(Buffer.from('secret\n'));
    rec.resize(100, 30);
    await rec.flush();
    const events = (await sessions.readRecording('s1'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toEqual([
      [0.25, 'o', '€ ok\r\n'],
      [0.25, 'r', '100x30'],
    ]);
    const withInput = new Recording(
      sessions,
      's2',
      0,
      true,
      (e) => errors.push(e),
      () => 500,
    );
    withInput.input(Buffer.from('ls\r'));
    await withInput.flush();
    expect(await sessions.readRecording('s2')).toBe('[0.5,"i","ls\\r"]\n');
    expect(errors).toEqual([]);
  });

  it.skipIf(skip)('writes in parts that read back in order', async () => {
    const { sessions } = await store();
    const rec = new Recording(
      sessions,
      's3',
      0,
      false,
      () => undefined,
      () => 0,
    );
    for (let i = 0; i < 2000; i++) rec.output(Buffer.from(`line ${i} ${'x'.repeat(40)}\r\n`));
    await rec.flush();
    const events = (await sessions.readRecording('s3'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as [number, string, string]);
    expect(events.map((e) => e[2])).toEqual(Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(40)}\r\n`));
  });
});
