import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { FakeAgent } from './support/fake-agent.js';
import { muster, startServerProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';

/**
 * A pattern that a backtracking engine takes exponential time on, against a
 * value that almost matches: it held the server's event loop, and so every
 * organization's requests and /healthz, for 27 s.
 */
const EVIL = '^(.*?.*?)*X$';
const NEAR_MISS = `${'a'.repeat(40)}!`;

describe.each(DATABASES)('a backtracking regular expression from a viewer on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let viewer: string;

  /** Sends `request` and, while it is in flight, /healthz; both must answer. */
  async function withHealthz<T>(request: () => Promise<T>): Promise<T> {
    const pending = request();
    const health = call(server.url, undefined, 'GET', '/healthz');
    const [result, healthz] = await Promise.all([pending, health]);
    expect(healthz.status).toBe(200);
    return result;
  }

  beforeAll(async () => {
    if (skip) return;
    db = await createTestDatabase(name);
    server = await startServerProcess(db);
    for (const [hostname, kernelrelease] of [
      ['web-1', NEAR_MISS],
      ['web-2', 'aaaaX'],
    ] as const) {
      await FakeAgent.enroll(server.url, server.enrollmentKey, hostname);
      const facts = {
        certname: hostname,
        environment: 'production',
        producer_timestamp: new Date().toISOString(),
        producer: 'puppet',
        values: { kernelrelease },
      };
      const res = await call(
        server.url,
        server.adminKey,
        'POST',
        `/pdb/cmd/v1?command=replace_facts&version=5&certname=${hostname}&secondsToWaitForCompletion=10`,
        facts,
      );
      expect(res.status).toBe(200);
    }
    viewer = (await call(server.url, server.adminKey, 'POST', '/v1/api-keys', { name: 'viewer', role: 'viewer' })).body.secret;
  });

  afterAll(async () => {
    await server?.proc.stop();
    await db?.drop();
  });

  it.skipIf(skip)('a fact selector through the native API answers, correctly, while /healthz keeps answering', async () => {
    const selector = `fact:"kernelrelease~${EVIL}"`;
    const res = await withHealthz(() => call(server.url, viewer, 'GET', `/v1/systems?select=${encodeURIComponent(selector)}`));
    expect(res.status).toBe(200);
    expect(res.body.items.map((s: { hostname: string }) => s.hostname)).toEqual(['web-2']);
  });

  it.skipIf(skip)('the same selector through `muster systems --select` answers', async () => {
    const cli = await withHealthz(() =>
      muster(['systems', '--select', `fact:"kernelrelease~${EVIL}"`, '--json'], { MUSTER_SERVER: server.url, MUSTER_API_KEY: viewer }),
    );
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout).map((s: { hostname: string }) => s.hostname)).toEqual(['web-2']);
  });

  it.skipIf(skip)('a PuppetDB ["~", …] query answers while /healthz keeps answering', async () => {
    const query = ['and', ['=', 'name', 'kernelrelease'], ['~', 'value', EVIL]];
    const res = await withHealthz(() => call(server.url, viewer, 'GET', `/pdb/query/v4/facts?query=${encodeURIComponent(JSON.stringify(query))}`));
    expect(res.status).toBe(200);
    expect(res.body.map((f: { certname: string }) => f.certname)).toEqual(['web-2']);
  });

  it.skipIf(skip)('a pattern the two engines read differently is a 400 on either database, saying what to write instead', async () => {
    const query = ['and', ['=', 'name', 'kernelrelease'], ['~', 'value', 'X\\z']];
    const res = await withHealthz(() => call(server.url, viewer, 'GET', `/pdb/query/v4/facts?query=${encodeURIComponent(JSON.stringify(query))}`));
    expect([res.status, res.text]).toEqual([400, expect.stringContaining('is not understood by PostgreSQL: use $')]);
    expect(res.text).toContain('z is not');
    const selector = await call(server.url, viewer, 'GET', `/v1/systems?select=${encodeURIComponent('fact:"kernelrelease~\\\\bX"')}`);
    expect(selector.status).toBe(400);
    expect(selector.body.error.message).toMatch(/word boundary to RE2 but a backspace to PostgreSQL/);
  });

  it.skipIf(skip)("a pattern RE2 accepts and PostgreSQL's engine refuses is never a 500", async () => {
    const query = ['and', ['=', 'name', 'kernelrelease'], ['~', 'value', '[\\d-z]']];
    const res = await withHealthz(() => call(server.url, viewer, 'GET', `/pdb/query/v4/facts?query=${encodeURIComponent(JSON.stringify(query))}`));
    // RE2 takes `[\d-z]` as a digit, "-" or "z"; PostgreSQL's engine refuses the range, and the answer says so.
    if (name === 'sqlite') expect(res.status).toBe(200);
    else expect([res.status, res.text]).toEqual([400, expect.stringContaining('PostgreSQL cannot use this regular expression')]);
  });

  it.skipIf(skip)('a pattern past the length limit is a 400 naming the limit, not work for the database', async () => {
    const long = call(server.url, viewer, 'GET', `/v1/systems?select=${encodeURIComponent(`fact:"kernelrelease~${'a'.repeat(1025)}"`)}`);
    const res = await withHealthz(() => long);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/at most 1024 characters/);
  });
});
