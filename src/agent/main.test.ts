import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../config/agent.js';
import { writeFileAtomic } from './atomic-file.js';
import { Agent } from './main.js';
import { REFUSED_MESSAGE } from './server-link.js';
import { Spool } from './spool.js';
import { CONF_FILE, ensureStateDir, identityFileContent, KEY_FILE } from './state.js';
import { FakeServer } from './testing/fake-server.js';
import { deliverMessage } from './testing/message-log.js';

const SYSTEM = 'sys1';
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** An enrolled state dir and a fake server that knows its key. */
async function setup() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const server = await new FakeServer(SYSTEM, publicKey.export({ type: 'spki', format: 'pem' }).toString()).start();
  cleanup.push(() => server.stop());
  const stateDir = join(mkdtempSync(join(tmpdir(), 'muster-agent-')), 'state');
  ensureStateDir(stateDir);
  writeFileAtomic(join(stateDir, KEY_FILE), privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  writeFileAtomic(join(stateDir, CONF_FILE), identityFileContent({ systemKey: SYSTEM, server: server.url, organizationId: 'org1' }));
  const config = loadAgentConfig({ state_dir: stateDir, kill_grace_s: 1 }, {});
  const logs: string[] = [];
  const start = (idleTimeoutMs?: number): Agent => {
    const agent = new Agent(config, {
      logger: pino({ level: 'info' }, { write: (line: string) => logs.push(line) }),
      ...(idleTimeoutMs ? { idleTimeoutMs } : {}),
    });
    agent.start();
    cleanup.push(() => agent.stop());
    return agent;
  };
  return { server, stateDir, spoolFile: (runId: string) => join(stateDir, 'spool', `${runId}.json`), logs, start };
}

describe('Agent against a fake server', () => {
  it('says hello, runs a delivered script, streams it, and forgets it once acknowledged', async () => {
    const { server, spoolFile, stateDir, start } = await setup();
    start();
    const conn = await server.connection(1);
    const hello = await conn.next('hello');
    expect(hello.facts).toMatchObject({ hostname: hostname(), agent_version: expect.any(String) });
    expect(hello.active_run_ids).toEqual([]);

    conn.send(deliverMessage('run1', 'echo hello; echo oops >&2; echo "$MUSTER_SYSTEM_ID"; exit 2', { shell: 'bash' }));
    const started = await conn.next('run.started', 'run1');
    const result = await conn.next('run.result', 'run1');
    expect(result).toMatchObject({
      outcome: 'exited',
      exit_code: 2,
      stdout: `hello\n${SYSTEM}\n`,
      stderr: 'oops\n',
      started_at: started.started_at,
      error: null,
    });
    const chunks = conn.all('run.output', 'run1');
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    expect(
      chunks
        .filter((c) => c.stream === 'stderr')
        .map((c) => c.data)
        .join(''),
    ).toBe('oops\n');
    expect(existsSync(spoolFile('run1'))).toBe(true);
    expect(existsSync(join(stateDir, 'work', 'run1'))).toBe(false);

    conn.send({ type: 'run.ack', run_id: 'run1' });
    await conn.roundTrip(1);
    expect(existsSync(spoolFile('run1'))).toBe(false);

    // Redelivered after the ack, and nonsense in between: nothing runs, the agent keeps answering.
    conn.socket.send('{"v":1,"type":"run.deliver","run_id":"../x"}');
    conn.socket.send('not json');
    conn.send(deliverMessage('run1', 'echo again'));
    await conn.roundTrip(2);
    expect(conn.all('run.started')).toHaveLength(1);
    expect(conn.all('run.result')).toHaveLength(1);
    expect(conn.invalid).toEqual([]);
  });

  it('keeps retrying after a refused signature, signing every attempt afresh', async () => {
    const { server, logs, start } = await setup();
    server.refuseNext = 2;
    start();
    const conn = await server.connection(1);
    await conn.next('hello');
    expect(server.refusals).toEqual(['refused by the test', 'refused by the test']);
    expect(new Set(server.signatures).size).toBe(3);
    expect(logs.filter((l) => l.includes(REFUSED_MESSAGE))).toHaveLength(2);
  });

  it('reconnects when the server falls silent', async () => {
    const { server, start } = await setup();
    start(300);
    await (await server.connection(1)).next('hello');
    await (await server.connection(2)).next('hello');
  });

  it('on stop, kills a running script and sends its result after the next connect; a run cut by a crash is lost', async () => {
    const { server, stateDir, spoolFile, start } = await setup();
    const crashed = new Spool(join(stateDir, 'spool'));
    crashed.open();
    crashed.markStarted('cut1', 'job0', new Date().toISOString());

    const first = start();
    const conn1 = await server.connection(1);
    expect(await conn1.next('run.result', 'cut1')).toMatchObject({ outcome: 'lost', error: 'the agent restarted while this run was in progress' });
    conn1.send(deliverMessage('long1', 'echo up; sleep 60'));
    await conn1.next('run.output', 'long1');
    conn1.send(deliverMessage('long1', 'echo twice'));
    await conn1.roundTrip(1);
    await first.stop();
    expect(conn1.all('run.started')).toHaveLength(1);

    start();
    const conn2 = await server.connection(2);
    expect((await conn2.next('hello')).active_run_ids).toEqual([]);
    expect(await conn2.next('run.result', 'long1')).toMatchObject({ outcome: 'cancelled', error: 'the agent was stopped', stdout: 'up\n' });
    await conn2.next('run.result', 'cut1');
    conn2.send({ type: 'run.ack', run_id: 'long1' });
    conn2.send({ type: 'run.ack', run_id: 'cut1' });
    await conn2.roundTrip(2);
    expect(existsSync(spoolFile('long1'))).toBe(false);
    expect(existsSync(spoolFile('cut1'))).toBe(false);
  });
});
