import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../../../test/support/webhook-receiver.js';
import { fetchSender, RESPONSE_BODY_MAX_BYTES } from './sender.js';

describe('the fetch sender', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    receiver.script('/big', [{ status: 200, body: 'x'.repeat(100_000) }]);
    receiver.script('/moved', [{ status: 302, body: 'elsewhere' }]);
    receiver.script('/hang', ['hang']);
  });
  afterAll(() => receiver.stop());
  const post = (url: string, allowPrivate = true, timeoutMs = 2000) =>
    fetchSender(allowPrivate)({ url, headers: { 'content-type': 'application/json', 'x-test': '1' }, body: '{"a":1}', timeoutMs });

  it('posts the body and headers, and keeps only the first KiB of the answer', async () => {
    const res = await post(receiver.url('/big'));
    expect(res).toMatchObject({ status: 200, error: null });
    expect(res.body).toHaveLength(RESPONSE_BODY_MAX_BYTES);
    const got = await receiver.next((r) => r.path === '/big');
    expect(got).toMatchObject({ body: '{"a":1}', headers: { 'x-test': '1', 'content-type': 'application/json' } });
  });

  it('does not follow redirects: a 3xx is the answer', async () => {
    expect(await post(receiver.url('/moved'))).toMatchObject({ status: 302, body: 'elsewhere' });
  });

  it('gives up after the timeout, saying so', async () => {
    const res = await post(receiver.url('/hang'), true, 300);
    expect(res).toMatchObject({ status: null, body: null, error: 'no answer within 300 ms' });
    expect(res.durationMs).toBeGreaterThanOrEqual(250);
  });

  it('with private addresses refused, refuses a name that resolves to loopback before connecting', async () => {
    const before = receiver.received.length;
    const res = await post(receiver.url('/big').replace('127.0.0.1', 'localhost'), false);
    expect(res.status).toBeNull();
    expect(res.error).toMatch(/localhost resolves to (127\.0\.0\.1|::1), a loopback or private address/);
    expect(receiver.received.length).toBe(before);
  });
});
