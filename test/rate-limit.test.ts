import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../src/config/server.js';
import { DATABASES } from './support/databases.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { enrollSystem, signedCall } from './support/system-context.js';

const MAX = 6;
const WINDOW_S = 60;

/** `n` requests one after the other; the statuses and the last answer. */
async function repeat(
  n: number,
  send: () => Promise<{ status: number; body: any; headers?: Headers }>,
): Promise<{ statuses: number[]; last: { status: number; body: any; headers?: Headers } }> {
  const statuses: number[] = [];
  let last: { status: number; body: any; headers?: Headers } | undefined;
  for (let i = 0; i < n; i++) {
    last = await send();
    statuses.push(last.status);
  }
  return { statuses, last: last! };
}

function expectRetryAfter(headers: Headers | undefined): void {
  const seconds = Number(headers?.get('retry-after'));
  expect(Number.isInteger(seconds)).toBe(true);
  expect(seconds).toBeGreaterThan(0);
  expect(seconds).toBeLessThanOrEqual(WINDOW_S);
}

describe('rate limit settings', () => {
  it('default to 500 requests per 10 s for each caller, and 0 turns them off', () => {
    const defaults = loadServerConfig({}, {});
    expect(defaults.rate_limit_max).toBe(500);
    expect(defaults.rate_limit_window_s).toBe(10);
    expect(loadServerConfig({}, { MUSTER_RATE_LIMIT_MAX: '0', MUSTER_RATE_LIMIT_WINDOW_S: '60' })).toMatchObject({
      rate_limit_max: 0,
      rate_limit_window_s: 60,
    });
    expect(() => loadServerConfig({ rate_limit_max: -1 }, {})).toThrow(/rate_limit_max/);
    expect(() => loadServerConfig({}, { MUSTER_RATE_LIMIT_WINDOW_S: '0' })).toThrow(/rate_limit_window_s/);
  });
});

describe.each(DATABASES)('per-caller rate limits on $name', ({ name, skip }) => {
  let s: TestServer;
  /** A fresh operator key: each test counts its own requests. */
  const newKey = async () => (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'limited', role: 'operator' })).body.secret as string;
  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
  });
  afterAll(async () => s?.stop());

  describe('with a low limit', () => {
    let low: TestServer;
    let keys: string[];
    beforeAll(async () => {
      if (skip) return;
      low = await startTestServer(name, { rate_limit_max: MAX, rate_limit_window_s: WINDOW_S });
      // Five keys from the admin key, under its own limit; each test counts on its own key.
      keys = [];
      for (let i = 0; i < 5; i++) keys.push((await call(low.url, low.adminKey, 'POST', '/v1/api-keys', { name: `k${i}`, role: 'operator' })).body.secret);
    });
    afterAll(async () => low?.stop());

    it.skipIf(skip)('native API: the request past the limit answers 429 with Retry-After; another key is not held back', async () => {
      const { statuses, last } = await repeat(MAX + 1, () => call(low.url, keys[0], 'GET', '/v1/whoami'));
      expect(statuses).toEqual([...Array(MAX).fill(200), 429]);
      expectRetryAfter(last.headers);
      expect(last.headers?.get('x-ratelimit-limit')).toBe(String(MAX));
      expect(last.body.error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringContaining(`at most ${MAX} per ${WINDOW_S} s`) });
      expect(last.body.error.request_id).toBeTruthy();
      expect((await call(low.url, keys[1], 'GET', '/v1/whoami')).status).toBe(200);
    });

    it.skipIf(skip)('a refused credential answers 401 and does not count', async () => {
      const { statuses } = await repeat(MAX + 2, () => call(low.url, 'mk_not_a_key', 'GET', '/v1/whoami'));
      expect(statuses).toEqual(Array(MAX + 2).fill(401));
    });

    it.skipIf(skip)("JumpCloud API: 429 in JumpCloud's error shape", async () => {
      const { statuses, last } = await repeat(MAX + 1, () => call(low.url, undefined, 'GET', '/api/systems', undefined, { 'x-api-key': keys[2]! }));
      expect(statuses).toEqual([...Array(MAX).fill(200), 429]);
      expectRetryAfter(last.headers);
      expect(last.body).toMatchObject({ error: 'RATE_LIMITED', message: expect.stringContaining('too many requests') });
    });

    it.skipIf(skip)('System Context: a system counts on its own', async () => {
      const system = await enrollSystem(low.url, low.enrollmentKey, 'limited-1');
      const answers = [];
      for (let i = 0; i < MAX + 1; i++) answers.push(await signedCall(low.url, system, 'GET', `/api/systems/${system.systemId}`));
      expect(answers.map((a) => a.status)).toEqual([...Array(MAX).fill(200), 429]);
      expect(answers[MAX]!.body).toMatchObject({ error: 'RATE_LIMITED' });
    });

    it.skipIf(skip)("PuppetDB queries: 429 in PuppetDB's error shape", async () => {
      const { statuses, last } = await repeat(MAX + 1, () => call(low.url, keys[3], 'GET', '/pdb/query/v4/nodes'));
      expect(statuses).toEqual([...Array(MAX).fill(200), 429]);
      expectRetryAfter(last.headers);
      expect(last.body).toEqual({ error: expect.stringContaining('too many requests') });
    });

    it.skipIf(skip)('health, readiness, metrics and PuppetDB command submission are not limited', async () => {
      const facts = (i: number) =>
        JSON.stringify({
          certname: 'limits.example.com',
          environment: 'production',
          producer_timestamp: new Date(Date.now() + i).toISOString(),
          producer: 'puppet',
          values: { i },
        });
      const submit = (i: number) => () =>
        fetch(`${low.url}/pdb/cmd/v1?command=replace_facts&version=5&certname=limits.example.com`, {
          method: 'POST',
          headers: { authorization: `Bearer ${keys[4]}`, 'content-type': 'application/json' },
          body: facts(i),
        }).then(async (r) => ({ status: r.status, body: await r.json() }));
      const statuses = [];
      for (let i = 0; i < MAX + 2; i++) statuses.push((await submit(i)()).status);
      expect(statuses).toEqual(Array(MAX + 2).fill(200));
      for (const path of ['/healthz', '/readyz', '/metrics']) {
        expect((await repeat(MAX + 2, () => call(low.url, undefined, 'GET', path))).statuses).toEqual(Array(MAX + 2).fill(200));
      }
    });

    it.skipIf(skip)('requests without a key count per client address', async () => {
      const { statuses, last } = await repeat(MAX + 1, () => call(low.url, undefined, 'GET', '/docs/json'));
      expect(statuses).toEqual([...Array(MAX).fill(200), 429]);
      expect(last.body.error?.code, JSON.stringify(last.body)).toBe('RATE_LIMITED');
    });
  });

  it.skipIf(skip)('with the default limit, a burst under it passes and says how much is left', async () => {
    const key = await newKey();
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(s.url, key, 'GET', '/v1/whoami')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const remaining = answers.map((a) => Number(a.headers.get('x-ratelimit-remaining'))).sort((a, b) => a - b);
    expect(remaining[0]).toBe(480);
    expect(answers[0]!.headers.get('x-ratelimit-limit')).toBe('500');
  });

  it.skipIf(skip)('with the limit off, no request is counted', async () => {
    const off = await startTestServer(name, { rate_limit_max: 0 });
    try {
      const res = await call(off.url, off.adminKey, 'GET', '/v1/whoami');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
    } finally {
      await off.stop();
    }
  });
});
