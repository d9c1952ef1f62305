import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { FakeAgent } from './support/fake-agent.js';
import { muster } from './support/processes.js';
import { call, startTestServer, type TestServer } from './support/server.js';

/** `muster groups …` and `muster users …` against a real server (the built CLI). */
describe.each(DATABASES)('inventory CLI on $name', ({ name, skip }) => {
  let s: TestServer;
  let web: FakeAgent;
  let env: Record<string, string>;
  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    web = await FakeAgent.enroll(s.url, s.enrollmentKey, 'web-1');
    env = { MUSTER_SERVER: s.url, MUSTER_API_KEY: s.adminKey };
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip)('groups: create, add, members, list, remove, delete', async () => {
    expect((await muster(['groups', 'create', 'web', '--description', 'front ends'], env)).stdout).toMatch(/created group web/);
    expect((await muster(['groups', 'add', 'web', web.systemId], env)).code).toBe(0);
    expect((await muster(['groups', 'members', 'web'], env)).stdout.trim()).toBe(web.systemId);
    expect((await muster(['groups', 'list'], env)).stdout).toMatch(/web\s+front ends/);
    expect((await muster(['groups', 'remove', 'web', web.systemId], env)).code).toBe(0);
    expect((await muster(['groups', 'members', 'web'], env)).stdout.trim()).toBe('');
    expect((await muster(['groups', 'delete', 'web'], env)).code).toBe(0);
    const missing = await muster(['groups', 'delete', 'web'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found/);
  });

  it.skipIf(skip)('users: create, bind, list, unbind, delete', async () => {
    const created = await muster(['users', 'create', 'deploy', '--email', 'deploy@example.com'], env);
    const id = /\(([0-9a-f]{24})\)/.exec(created.stdout)![1]!;
    expect((await muster(['users', 'bind', id, web.systemId], env)).code).toBe(0);
    expect((await call(s.url, s.adminKey, 'GET', `/v1/systems/${web.systemId}/users`)).body.items[0].username).toBe('deploy');
    expect((await muster(['users', 'list'], env)).stdout).toContain('deploy@example.com');
    expect((await muster(['users', 'unbind', id, web.systemId], env)).code).toBe(0);
    expect((await muster(['users', 'delete', id], env)).code).toBe(0);
  });
});
