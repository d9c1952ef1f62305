import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { FakeAgent } from './support/fake-agent.js';
import { waitFor } from './support/processes.js';
import { call, startTestServer, type TestServer } from './support/server.js';

/** GET /v1/systems a page at a time, as the web console reads a fleet too large for one answer. */
describe.each(DATABASES)('systems a page at a time on $name', ({ name, skip }) => {
  let s: TestServer;
  let agents: FakeAgent[];
  const get = async (query: string) => call(s.url, s.adminKey, 'GET', `/v1/systems?${query}`);
  const hostnames = (body: { items: Array<{ hostname: string }> }) => body.items.map((x) => x.hostname);

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    agents = [];
    for (const host of ['page-c', 'page-a', 'page-e', 'page-b', 'page-d']) agents.push(await FakeAgent.enroll(s.url, s.enrollmentKey, host));
    await agents[2]!.connect();
    await waitFor(async () => (await get('sort=-connected&limit=1')).body.items[0]?.hostname === 'page-e', 'page-e to count as connected');
  });
  afterAll(async () => {
    for (const a of agents ?? []) await a.close();
    await s?.stop();
  });

  it.skipIf(skip)('follows next_cursor through every system in hostname order, with the total on each page', async () => {
    const seen: string[] = [];
    let query = 'limit=2';
    for (let pages = 0; pages < 10; pages++) {
      const { status, body } = await get(query);
      expect(status).toBe(200);
      expect(body.total).toBe(5);
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...hostnames(body));
      if (body.next_cursor === null) break;
      query = `limit=2&cursor=${encodeURIComponent(body.next_cursor)}`;
    }
    expect(seen).toEqual(['page-a', 'page-b', 'page-c', 'page-d', 'page-e']);
  });

  it.skipIf(skip)('sorts either way by a field, filters with a selector, and says how many match', async () => {
    expect(hostnames((await get('limit=3&sort=-hostname')).body)).toEqual(['page-e', 'page-d', 'page-c']);
    expect((await get('limit=1&sort=-connected')).body.items[0]).toMatchObject({ hostname: 'page-e', connected: true });
    const selected = await get(`limit=1&select=${encodeURIComponent('hostname:page-a or hostname:page-b')}`);
    expect(selected.body).toMatchObject({ total: 2, next_cursor: '1' });
    expect(hostnames(selected.body)).toEqual(['page-a']);
    // Without paging parameters, every match, as before.
    expect((await get('')).body).toMatchObject({ total: 5, next_cursor: null });
    expect((await get('')).body.items).toHaveLength(5);
  });

  it.skipIf(skip)('answers 400 naming what is wrong', async () => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=2&sort=colour', 'sort'],
      ['limit=2&cursor=-1', 'cursor'],
      ['limit=2&cursor=abc', 'cursor'],
      ['limit=2&select=hostname%3A', 'select'],
    ] as const) {
      const { status, body } = await get(query);
      expect(status, query).toBe(400);
      expect(body.error.code, query).toBe('INVALID_ARGUMENT');
      expect(body.error.message, query).toContain(field);
    }
  });
});
