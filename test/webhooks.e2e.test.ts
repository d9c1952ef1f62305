import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { freePort, muster, ROOT, startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';
import { WebhookReceiver, type Received } from './support/webhook-receiver.js';

type Verify = (secret: string, header: string, body: string, toleranceS?: number) => boolean;

/** The documented ways to verify a signature (docs/webhooks.md), taken from the page itself. */
function documentedVerifiers(): { node: string; shell: string } {
  const doc = readFileSync(join(ROOT, 'docs', 'webhooks.md'), 'utf8');
  const block = (lang: string) => new RegExp('```' + lang + ' verify\\n([\\s\\S]*?)```').exec(doc)![1]!;
  return { node: block('js'), shell: block('sh') };
}

describe.each(DATABASES)('outbound webhooks end to end on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let receiver: WebhookReceiver;
  let agent: AgentProcess;
  const agents: AgentProcess[] = [];
  let verify: Verify;
  let shellVerifier: string;
  let operatorKey: string;
  let otherKey: string;
  const api = (method: string, path: string, body?: unknown, key = server.adminKey) => call(server.url, key, method, path, body);

  async function hook(path: string, events: string[]): Promise<{ id: string; secret: string }> {
    const res = await api('POST', '/v1/webhooks', { url: receiver.url(path), events, description: path });
    expect(res.status, res.text).toBe(201);
    return { id: res.body.webhook.id, secret: res.body.secret };
  }

  async function finished(jobId: string): Promise<any> {
    return waitFor(async () => {
      const { body } = await api('GET', `/v1/jobs/${jobId}`);
      return body.done ? body : undefined;
    }, `job ${jobId} to finish`);
  }

  async function launch(content: string): Promise<string> {
    const res = await api('POST', '/v1/jobs', { content, targets: { system_ids: [agent.systemId] } });
    expect(res.status, res.text).toBe(201);
    return res.body.job.id;
  }

  const deliveries = async (id: string) => (await api('GET', `/v1/webhooks/${id}/deliveries`)).body.items as any[];

  beforeAll(async () => {
    if (skip) return;
    receiver = await WebhookReceiver.start();
    const docs = documentedVerifiers();
    const dir = mkdtempSync(join(tmpdir(), 'muster-verify-'));
    writeFileSync(join(dir, 'verify.mjs'), docs.node);
    verify = ((await import(join(dir, 'verify.mjs'))) as { verify: Verify }).verify;
    shellVerifier = docs.shell;
    db = await createTestDatabase(name);
    server = await startServerProcess(db, {
      MUSTER_WEBHOOK_BACKOFF_BASE_MS: '100',
      MUSTER_WEBHOOK_BACKOFF_MAX_MS: '300',
      MUSTER_WEBHOOK_POLL_MS: '50',
      MUSTER_WEBHOOK_TIMEOUT_S: '3',
      MUSTER_WEBHOOK_MAX_PER_ORGANIZATION: '4',
    });
    agent = await startAgentProcess(server, ['web']);
    agents.push(agent);
    operatorKey = (await api('POST', '/v1/api-keys', { name: 'operator', role: 'operator' })).body.secret;
    otherKey = (await api('POST', '/v1/organizations', { name: 'Other', slug: 'other' })).body.api_key;
    await waitFor(async () => (await api('GET', `/v1/systems/${agent.systemId}`)).body.connected, 'the agent to connect');
  });
  // Each test starts with no webhooks, whatever the one before left.
  afterEach(async () => {
    if (skip) return;
    for (const w of (await api('GET', '/v1/webhooks')).body.items) await api('DELETE', `/v1/webhooks/${w.id}`);
  });
  afterAll(async () => {
    if (skip) return;
    for (const a of agents) await a.proc.stop();
    await server?.proc.stop();
    await receiver?.stop();
    await db?.drop();
  });

  it.skipIf(skip)('delivers job.completed and run.failed, signed as documented, with the envelope and headers', async () => {
    const { id, secret } = await hook('/jobs', ['job.completed', 'run.failed']);
    const okJob = await launch('echo fine');
    const badJob = await launch('exit 3');
    const completed = await receiver.next((r) => r.path === '/jobs' && r.json?.event === 'job.completed' && r.json.data.job.id === okJob);
    expect(completed.json).toMatchObject({
      event: 'job.completed',
      organization_id: expect.any(String),
      occurred_at: expect.any(String),
      data: { job: { id: okJob, status: 'succeeded', total: 1, counts: { succeeded: 1, failed: 0, pending: 0 } } },
    });
    expect(completed.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'muster/0.1.0',
      'x-muster-event': 'job.completed',
      'x-muster-delivery': completed.json.id,
    });
    const header = completed.headers['x-muster-signature'] as string;
    expect(header).toMatch(new RegExp(`^t=${completed.headers['x-muster-timestamp']},v1=[0-9a-f]{64}$`));
    expect(verify(secret, header, completed.body)).toBe(true);
    expect(verify(secret, header, completed.body.replace('succeeded', 'failed'))).toBe(false);
    expect(verify(`${secret}x`, header, completed.body)).toBe(false);
    await expectShellVerifies(shellVerifier, secret, completed);

    const failed = await receiver.next((r) => r.path === '/jobs' && r.json?.event === 'run.failed' && r.json.data.run.job_id === badJob);
    expect(failed.json.data.run).toMatchObject({ job_id: badJob, system_id: agent.systemId, state: 'failed', reason: 'failed' });
    expect(['delivered', 'running']).toContain(failed.json.data.run.previous_state);
    expect(verify(secret, failed.headers['x-muster-signature'] as string, failed.body)).toBe(true);
    const badDone = await receiver.next((r) => r.path === '/jobs' && r.json?.event === 'job.completed' && r.json.data.job.id === badJob);
    expect(badDone.json.data.job).toMatchObject({ status: 'failed', counts: { failed: 1 } });
    // A successful run is no run.failed.
    expect(receiver.received.filter((r) => r.path === '/jobs' && r.json?.event === 'run.failed' && r.json.data.run.job_id === okJob)).toEqual([]);

    const log = await waitFor(async () => {
      const items = await deliveries(id);
      return items.length === 3 && items.every((d) => d.state === 'delivered') ? items : undefined;
    }, 'three delivered deliveries in the log');
    expect(log[0]).toMatchObject({
      attempts: 1,
      last_status: 200,
      next_attempt_at: null,
      attempt_log: [{ seq: 1, status: 200, response_body: 'answered 200', error: null }],
    });
    await api('DELETE', `/v1/webhooks/${id}`);
  });

  it.skipIf(skip)('sends system.enrolled and system.deleted', async () => {
    const { id } = await hook('/systems', ['system.enrolled', 'system.deleted']);
    const fresh = await startAgentProcess(server, ['fresh']);
    agents.push(fresh);
    const enrolled = await receiver.next((r) => r.path === '/systems' && r.json?.event === 'system.enrolled' && r.json.data.system.id === fresh.systemId);
    expect(enrolled.json.data.system).toMatchObject({ id: fresh.systemId, tags: ['fresh'], hostname: expect.any(String) });
    expect((await api('DELETE', `/v1/systems/${fresh.systemId}`)).status).toBe(204);
    const deleted = await receiver.next((r) => r.path === '/systems' && r.json?.event === 'system.deleted' && r.json.data.system.id === fresh.systemId);
    expect(deleted.headers['x-muster-event']).toBe('system.deleted');
    await api('DELETE', `/v1/webhooks/${id}`);
  });

  it.skipIf(skip)('sends ingest.discarded when a command goes to the dead letter office', async () => {
    const { id } = await hook('/ingest', ['ingest.discarded']);
    const broken = JSON.stringify({ certname: 'hook1', environment: 'production', producer_timestamp: '2026-11-23T10:00:00Z', values: {} });
    const res = await fetch(`${server.url}/pdb/cmd/v1?command=replace_facts&version=5&certname=hook1&secondsToWaitForCompletion=10`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
      body: broken,
    });
    const { uuid } = (await res.json()) as { uuid: string };
    const got = await receiver.next((r) => r.path === '/ingest' && r.json?.data?.command?.id === uuid);
    expect(got.json).toMatchObject({
      event: 'ingest.discarded',
      data: { command: { certname: 'hook1', command: 'replace facts', error: expect.stringMatching(/producer/) } },
    });
    await api('DELETE', `/v1/webhooks/${id}`);
  });

  it.skipIf(skip)('retries a receiver that answers 500 twice, logs the three attempts, and redelivers by hand', async () => {
    receiver.script('/flaky', [{ status: 500, body: 'down' }, { status: 500, body: 'still down' }, { status: 200 }]);
    const { id } = await hook('/flaky', ['job.completed']);
    const ping = await api('POST', `/v1/webhooks/${id}/ping`);
    expect(ping.status).toBe(202);
    expect(ping.body).toMatchObject({ event: 'ping', state: 'pending', webhook_id: id });
    const [d] = await waitFor(async () => {
      const items = await deliveries(id);
      return items[0]?.state === 'delivered' ? items : undefined;
    }, 'the ping to be delivered');
    expect(d.id).toBe(ping.body.id);
    expect(d.attempts).toBe(3);
    expect(d.attempt_log.map((a: any) => [a.seq, a.status, a.response_body])).toEqual([
      [1, 500, 'down'],
      [2, 500, 'still down'],
      [3, 200, 'answered 200'],
    ]);
    expect(d.attempt_log[0].error).toMatch(/500/);
    const sent = receiver.received.filter((r) => r.path === '/flaky');
    expect(sent.map((r) => r.json.id)).toEqual([d.id, d.id, d.id]);
    expect(JSON.parse(d.body)).toMatchObject({ id: d.id, event: 'ping', data: { webhook_id: id } });

    const again = await api('POST', `/v1/webhooks/${id}/deliveries/${d.id}/redeliver`);
    expect(again.status).toBe(202);
    const fourth = await receiver.next((r) => r.path === '/flaky' && receiver.received.filter((x) => x.path === '/flaky').indexOf(r) === 3);
    expect(fourth.json.id).toBe(d.id);
    expect(fourth.body).toBe(sent[0]!.body);
    const redelivered = await waitFor(async () => {
      const [item] = await deliveries(id);
      return item?.state === 'delivered' && item.attempts === 4 ? item : undefined;
    }, 'the redelivery in the log');
    expect(redelivered.attempt_log).toHaveLength(4);
    // The CLI shows the same log.
    const env = { MUSTER_SERVER: server.url, MUSTER_API_KEY: server.adminKey };
    const cli = await muster(['webhooks', 'deliveries', id, '--json'], env);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)[0]).toMatchObject({ id: d.id, attempts: 4, state: 'delivered' });
    expect((await muster(['webhooks', 'deliveries', id], env)).stdout).toMatch(/#3 .* 200/);
    await api('DELETE', `/v1/webhooks/${id}`);
  });

  it.skipIf(skip)('a receiver that never answers, or is not there, delays neither jobs nor other webhooks', async () => {
    receiver.script('/slow', ['hang']);
    const slow = await hook('/slow', ['job.completed']);
    // A port nothing listens on.
    const gone = await api('POST', '/v1/webhooks', { url: `http://127.0.0.1:${await freePort()}/nobody`, events: ['job.completed'] });
    expect(gone.status).toBe(201);
    const fast = await hook('/fast', ['job.completed']);
    const started = Date.now();
    const jobId = await launch('true');
    const done = await finished(jobId);
    expect(done.status).toBe('succeeded');
    const arrived = await receiver.next((r) => r.path === '/fast' && r.json?.data?.job?.id === jobId);
    // The fast receiver heard before the slow one's 3 s timeout could have passed.
    expect(arrived.at - started).toBeLessThan(3000);
    expect(receiver.received.some((r) => r.path === '/slow' && r.json?.data?.job?.id === jobId)).toBe(true);
    const timedOut = await waitFor(async () => (await deliveries(slow.id)).find((d) => d.attempt_log.length > 0), 'the slow attempt to time out');
    expect(timedOut.attempt_log[0]).toMatchObject({ status: null, error: expect.stringMatching(/no answer within 3000 ms/) });
    const refused = await waitFor(async () => (await deliveries(gone.body.webhook.id)).find((d) => d.attempt_log.length > 0), 'the refused attempt');
    expect(refused.state).toBe('pending');
    expect(refused.attempt_log[0]).toMatchObject({ status: null, error: expect.stringMatching(/ECONNREFUSED/) });
    for (const w of [slow.id, gone.body.webhook.id, fast.id]) expect((await api('DELETE', `/v1/webhooks/${w}`)).status).toBe(204);
  });

  it.skipIf(skip)('creates, shows, updates, rotates and deletes; the secret is sealed at rest and shown once', async () => {
    const { id, secret } = await hook('/crud', ['job.completed']);
    expect(secret).toMatch(/^mws_[0-9a-f]{48}$/);
    const shown = await api('GET', `/v1/webhooks/${id}`);
    expect(shown.body).toMatchObject({ id, url: receiver.url('/crud'), events: ['job.completed'], enabled: true, description: '/crud' });
    expect(shown.text).not.toContain(secret);
    expect((await api('GET', '/v1/webhooks')).body.items.map((w: any) => w.id)).toContain(id);
    const patched = await api('PATCH', `/v1/webhooks/${id}`, { events: ['run.failed', 'run.failed', 'job.completed'], enabled: false });
    expect(patched.body).toMatchObject({ events: ['run.failed', 'job.completed'], enabled: false });
    expect((await api('POST', `/v1/webhooks/${id}/ping`)).status).toBe(409);
    await api('PATCH', `/v1/webhooks/${id}`, { enabled: true });
    const rotated = (await api('POST', `/v1/webhooks/${id}/rotate-secret`)).body.secret;
    expect(rotated).not.toBe(secret);
    const ping = (await api('POST', `/v1/webhooks/${id}/ping`)).body;
    const got = await receiver.next((r) => r.json?.id === ping.id);
    expect(verify(rotated, got.headers['x-muster-signature'] as string, got.body)).toBe(true);
    expect(verify(secret, got.headers['x-muster-signature'] as string, got.body)).toBe(false);
    const database = db.open();
    try {
      const row = await database.db.selectFrom('webhooks').select('secret').where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.secret).toMatch(/^sealed:v1:/);
      expect(row.secret).not.toContain(rotated);
    } finally {
      await database.close();
    }
    expect((await api('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    expect((await api('GET', `/v1/webhooks/${id}`)).status).toBe(404);
  });

  it.skipIf(skip)('muster webhooks create, show, update, rotate-secret, ping, redeliver and delete', async () => {
    const env = { MUSTER_SERVER: server.url, MUSTER_API_KEY: server.adminKey };
    const cli = async (...args: string[]) => {
      const res = await muster(['webhooks', ...args], env);
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
      return res;
    };
    const created = JSON.parse(
      (await cli('create', '--url', receiver.url('/cli'), '--events', 'job.completed,run.failed', '--description', 'from the CLI', '--json')).stdout,
    );
    const id = created.webhook.id as string;
    expect(created.webhook).toMatchObject({ events: ['job.completed', 'run.failed'], description: 'from the CLI', enabled: true });
    expect(JSON.parse((await cli('show', id, '--json')).stdout)).toEqual(created.webhook);
    expect((await cli('list')).stdout).toMatch(new RegExp(`${id} +${receiver.url('/cli').replace(/[.]/g, '\\.')} +job.completed,run.failed +yes`));
    const disabled = JSON.parse((await cli('update', id, '--disable', '--events', 'run.failed', '--json')).stdout);
    expect(disabled).toMatchObject({ enabled: false, events: ['run.failed'] });
    await cli('update', id, '--enable');
    const secret = (await cli('rotate-secret', id)).stdout.trim();
    expect(secret).toMatch(/^mws_/);
    const ping = JSON.parse((await cli('ping', id, '--json')).stdout);
    const got = await receiver.next((r) => r.json?.id === ping.id);
    expect(verify(secret, got.headers['x-muster-signature'] as string, got.body)).toBe(true);
    await waitFor(async () => (await deliveries(id))[0]?.state === 'delivered', 'the ping to be delivered');
    expect((await cli('redeliver', id, ping.id)).stdout).toContain(`queued delivery ${ping.id}`);
    await receiver.next((r) => r.json?.id === ping.id && r !== got);
    expect((await cli('delete', id)).stdout).toContain(`deleted webhook ${id}`);
    const missing = await muster(['webhooks', 'show', id], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found/);
  });

  it.skipIf(skip)('refuses bad input with clear 400s', async () => {
    const bad = async (body: unknown, message: RegExp) => {
      const res = await api('POST', '/v1/webhooks', body);
      expect(res.status, res.text).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    };
    await bad({ url: 'ftp://example.com/x', events: ['job.completed'] }, /url: must be http or https, not ftp/);
    await bad({ url: 'not a url', events: ['job.completed'] }, /url: is not a URL/);
    await bad({ url: 'https://user:pw@example.com/', events: ['job.completed'] }, /credentials/);
    await bad({ url: 'https://example.com/', events: ['job.finished'] }, /unknown event "job.finished": the events are job.completed, run.failed/);
    await bad({ url: 'https://example.com/', events: [] }, /events: must list at least one/);
    await bad({ url: 'https://example.com/', events: ['job.completed'], colour: 'red' }, /colour|additional/);
    const patch = await api('PATCH', `/v1/webhooks/${'0'.repeat(24)}`, {});
    expect(patch.status).toBe(400);
    // The organization's limit (4 in this suite).
    const made: string[] = [];
    for (let i = 0; i < 4; i++) made.push((await api('POST', '/v1/webhooks', { url: `https://example.com/${i}`, events: ['run.failed'] })).body.webhook.id);
    await bad({ url: 'https://example.com/4', events: ['run.failed'] }, /at most 4 webhooks/);
    const cursor = await api('GET', `/v1/webhooks/${made[0]}/deliveries?cursor=nope`);
    expect(cursor.status).toBe(400);
    for (const id of made) await api('DELETE', `/v1/webhooks/${id}`);
    const cli = await muster(['webhooks', 'create', '--url', 'gopher://x', '--events', 'job.completed'], {
      MUSTER_SERVER: server.url,
      MUSTER_API_KEY: server.adminKey,
    });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/must be http or https/);
  });

  it.skipIf(skip)('every route refuses no key (401), a non-admin (403) and another organization (404)', async () => {
    const { id } = await hook('/auth', ['job.completed']);
    const ping = (await api('POST', `/v1/webhooks/${id}/ping`)).body;
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/v1/webhooks'],
      ['POST', '/v1/webhooks', { url: 'https://example.com/', events: ['run.failed'] }],
      ['GET', `/v1/webhooks/${id}`],
      ['PATCH', `/v1/webhooks/${id}`, { enabled: false }],
      ['DELETE', `/v1/webhooks/${id}`],
      ['POST', `/v1/webhooks/${id}/rotate-secret`],
      ['POST', `/v1/webhooks/${id}/ping`],
      ['GET', `/v1/webhooks/${id}/deliveries`],
      ['POST', `/v1/webhooks/${id}/deliveries/${ping.id}/redeliver`],
    ];
    for (const [method, path, body] of routes) {
      expect((await call(server.url, undefined, method, path, body)).status, `${method} ${path}`).toBe(401);
      expect((await api(method, path, body, operatorKey)).status, `${method} ${path}`).toBe(403);
      if (path !== '/v1/webhooks') expect((await api(method, path, body, otherKey)).status, `${method} ${path}`).toBe(404);
    }
    expect((await api('GET', '/v1/webhooks', undefined, otherKey)).body.items).toEqual([]);
    const stranger = await api('POST', `/v1/webhooks/${id}/deliveries/${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}/redeliver`);
    expect(stranger.status).toBe(404);
    // The CLI lists as JSON.
    const listed = await muster(['webhooks', 'list', '--json'], { MUSTER_SERVER: server.url, MUSTER_API_KEY: server.adminKey });
    expect(JSON.parse(listed.stdout).map((w: any) => w.id)).toContain(id);
    await api('DELETE', `/v1/webhooks/${id}`);
  });
});

/** The documented shell check accepts the delivery (when openssl is installed, as on the test machines). */
async function expectShellVerifies(script: string, secret: string, got: Received): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'muster-verify-sh-'));
  writeFileSync(join(dir, 'body.json'), got.body);
  const run = (s: string) =>
    promisify(execFile)('sh', ['-c', script], { cwd: dir, env: { ...process.env, SIG: got.headers['x-muster-signature'] as string, SECRET: s } });
  expect((await run(secret)).stdout.trim()).toBe('valid');
  expect((await run(`${secret}0`)).stdout.trim()).toBe('INVALID');
}
