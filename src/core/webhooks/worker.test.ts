import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coreFixture, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import { signTrigger } from '../commands/index.js';
import type { SendResult, WebhookSender } from './sender.js';
import { DeliveryWorker, type AttemptResult } from './worker.js';

const HOUR = 3600_000;

/** A receiver at a process boundary: answers each POST with the next scripted result and tells the test. */
class FakeReceiver {
  readonly calls: Array<{ url: string; headers: Record<string, string>; body: string }> = [];
  private waiting: Array<() => void> = [];
  constructor(private readonly answer: (n: number) => SendResult) {}
  readonly send: WebhookSender = async (req) => {
    this.calls.push(req);
    for (const w of this.waiting.splice(0)) w();
    return this.answer(this.calls.length);
  };
  /** Resolves once `n` calls have been made. */
  async calledTimes(n: number): Promise<void> {
    while (this.calls.length < n) await new Promise<void>((r) => this.waiting.push(r));
  }
}

const status = (code: number): SendResult => ({ status: code, body: `answered ${code}`, error: null, durationMs: 1 });

describe.each(DATABASES)('the webhook delivery worker on $name', ({ name, skip }) => {
  let f: CoreFixture;
  let worker: DeliveryWorker | undefined;
  const results: AttemptResult[] = [];

  beforeEach(async () => {
    if (skip) return;
    f = await coreFixture(name);
    results.length = 0;
  });
  afterEach(async () => {
    if (skip) return;
    await worker?.stop();
    worker = undefined;
    await f.close();
  });

  function start(receiver: FakeReceiver): DeliveryWorker {
    worker = new DeliveryWorker(
      f.stores.webhooks,
      f.core.webhooks,
      receiver.send,
      f.clock,
      { concurrency: 4, pollMs: 10, timeoutMs: 1000, backoff: { baseMs: 10_000, maxMs: HOUR }, userAgent: 'muster/test', keepMs: 30 * 24 * HOUR },
      (err) => {
        throw err;
      },
      (result) => results.push(result),
    );
    worker.start();
    return worker;
  }

  const log = async (id: string) => (await f.core.webhooks.deliveries(f.admin, id, {})).items;

  it.skipIf(skip)('signs each attempt, retries with capped backoff for 24 hours, then marks the delivery failed', async () => {
    const receiver = new FakeReceiver(() => status(500));
    const hook = await f.core.webhooks.create(f.admin, { url: 'https://hooks.example.com/x', events: ['job.completed'] });
    const queued = await f.core.webhooks.ping(f.admin, hook.id);
    start(receiver);
    await receiver.calledTimes(1);
    const first = receiver.calls[0]!;
    const t = Number(first.headers['x-muster-timestamp']);
    expect(t).toBe(Math.floor(f.clock.now().getTime() / 1000));
    expect(first.headers['x-muster-signature']).toBe(`t=${t},v1=${signTrigger(hook.secret, t, first.body)}`);
    expect(first.headers).toMatchObject({ 'x-muster-event': 'ping', 'x-muster-delivery': queued.id, 'user-agent': 'muster/test' });

    const started = f.clock.now().getTime();
    let previousDue = started;
    for (let n = 2; ; n++) {
      const [d] = await waitForLog(
        () => log(hook.id),
        (items) => items[0]?.attempt_count === n - 1 && items[0].state !== 'sending',
      );
      if (d!.state === 'failed') break;
      expect(d!.state).toBe('pending');
      const due = Date.parse(d!.nextAttemptAt);
      // Never sooner than a tenth of the base, never more than the cap after the attempt.
      expect(due - f.clock.now().getTime()).toBeGreaterThanOrEqual(1000);
      expect(due - f.clock.now().getTime()).toBeLessThanOrEqual(HOUR);
      expect(due).toBeGreaterThan(previousDue);
      previousDue = due;
      f.clock.current = new Date(due);
      await receiver.calledTimes(n);
    }
    const [failed] = await log(hook.id);
    expect(f.clock.now().getTime() - started).toBeLessThanOrEqual(24 * HOUR);
    expect(failed!.attemptLog.length).toBe(failed!.attempts);
    expect(failed!.attempts).toBeGreaterThan(20);
    // The observer hears of an attempt just after its log row is written.
    await waitForLog(
      async () => [{ attemptLog: results }],
      () => results.at(-1) === 'failed',
    );
    expect(results.filter((r) => r === 'retry')).toHaveLength(failed!.attempts - 1);
    // Failed deliveries are not claimed again, however long one waits.
    f.clock.advance(48 * HOUR);
    const calls = receiver.calls.length;
    await f.core.webhooks.ping(f.admin, hook.id);
    await receiver.calledTimes(calls + 1);
    expect(receiver.calls.at(-1)!.headers['x-muster-delivery']).not.toBe(queued.id);
  });

  it.skipIf(skip)('delivers on a 2xx, fails at once for a disabled webhook, and sends each delivery once however many are due', async () => {
    const receiver = new FakeReceiver(() => status(204));
    const hook = await f.core.webhooks.create(f.admin, { url: 'https://hooks.example.com/y', events: ['job.completed'] });
    const pings = [];
    for (let i = 0; i < 10; i++) pings.push(await f.core.webhooks.ping(f.admin, hook.id));
    start(receiver);
    await receiver.calledTimes(10);
    const delivered = await waitForLog(
      () => log(hook.id),
      (items) => items.every((d) => d.state === 'delivered'),
    );
    expect(delivered.map((d) => d.id).sort()).toEqual(pings.map((p) => p.id).sort());
    expect(new Set(receiver.calls.map((c) => c.headers['x-muster-delivery'])).size).toBe(10);
    expect(delivered[0]!.attemptLog).toEqual([expect.objectContaining({ seq: 1, status: 204, responseBody: 'answered 204', error: null })]);

    await worker!.stop();
    const late = await f.core.webhooks.ping(f.admin, hook.id);
    await f.core.webhooks.update(f.admin, hook.id, { enabled: false });
    start(receiver);
    const [d] = await waitForLog(
      () => log(hook.id),
      (items) => items[0]?.id === late.id && items[0].state === 'failed',
    );
    expect(d!.attemptLog[0]).toMatchObject({ status: null, error: 'the webhook is disabled' });
    expect(receiver.calls).toHaveLength(10);
  });
});

/** Polls the delivery log until `done` holds (the worker's attempts are observable only there). */
async function waitForLog<T extends { attemptLog: unknown[] }>(
  read: () => Promise<T[]>,
  done: (items: Array<T & { attempt_count: number }>) => boolean,
): Promise<T[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const items = (await read()).map((d) => ({ ...d, attempt_count: d.attemptLog.length }));
    if (done(items)) return items;
    if (Date.now() > deadline) throw new Error(`the delivery log never got there: ${JSON.stringify(items.slice(0, 2))}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
