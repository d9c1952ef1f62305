import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { muster } from './support/processes.js';
import { startTestServer, type TestServer } from './support/server.js';

describe.each(DATABASES)('muster pdb discarded on $name', ({ name, skip }) => {
  let s: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    env = { MUSTER_SERVER: s.url, MUSTER_API_KEY: s.adminKey };
  });
  afterAll(async () => {
    if (!skip) await s.stop();
  });

  it.skipIf(skip)(
    'lists, shows, retries and deletes dead letters',
    async () => {
      const broken = JSON.stringify({ certname: 'cli1', environment: 'production', producer_timestamp: '2026-11-23T10:00:00Z', values: {} });
      const res = await fetch(`${s.url}/pdb/cmd/v1?command=replace_facts&version=5&certname=cli1&secondsToWaitForCompletion=10`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
        body: broken,
      });
      const { uuid, error } = (await res.json()) as { uuid: string; error: string };
      expect(error).toMatch(/missing keys: producer/);

      const list = await muster(['pdb', 'discarded'], env);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/^ID\s+COMMAND\s+CERTNAME\s+RECEIVED\s+ATTEMPTS\s+ERROR/);
      expect(list.stdout).toContain(uuid);
      expect(list.stdout).toContain('replace facts v5');

      const show = await muster(['pdb', 'discarded', 'show', uuid], env);
      expect(JSON.parse(show.stdout)).toMatchObject({ id: uuid, state: 'discarded', payload: broken });

      expect((await muster(['pdb', 'discarded', 'retry', uuid], env)).stdout).toContain(`queued ${uuid} again`);
      const again = await muster(['pdb', 'command', uuid], env);
      expect(['queued', 'processing', 'discarded']).toContain(JSON.parse(again.stdout).state);
      // It breaks its wire format again, so it comes back to the office.
      for (let i = 0; i < 50 && JSON.parse((await muster(['pdb', 'command', uuid], env)).stdout).state !== 'discarded'; i++);
      expect((await muster(['pdb', 'discarded', 'delete', uuid], env)).stdout).toContain(`deleted ${uuid}`);
      expect((await muster(['pdb', 'discarded', '--json'], env)).stdout.trim()).toBe('[]');
      const missing = await muster(['pdb', 'command', uuid], env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/not found/);
    },
    60_000,
  );
});
