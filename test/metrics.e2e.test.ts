import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { ROOT, startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { parseExposition, sampleValue, type Family } from './support/prometheus.js';
import { call } from './support/server.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

/** Every family docs/metrics.md names, with its type. */
const FAMILIES: Record<string, Family['type']> = {
  muster_agents_connected: 'gauge',
  muster_runs: 'gauge',
  muster_run_latency_seconds: 'histogram',
  muster_transitions_total: 'counter',
  muster_ingest_queue_depth: 'gauge',
  muster_ingest_commands_processed_total: 'counter',
  muster_ingest_dead_letters: 'gauge',
  muster_webhook_deliveries_total: 'counter',
  muster_webhook_delivery_latency_seconds: 'histogram',
  muster_webhook_outbox: 'gauge',
  muster_http_requests_total: 'counter',
  muster_http_request_duration_seconds: 'histogram',
};

describe.each(DATABASES)('/metrics on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let agent: AgentProcess;
  let receiver: WebhookReceiver;
  const api = (method: string, path: string, body?: unknown) => call(server.url, server.adminKey, method, path, body);
  const scrape = async () => {
    const res = await call(server.url, undefined, 'GET', '/metrics');
    expect(res.status).toBe(200);
    return parseExposition(res.text);
  };

  beforeAll(async () => {
    if (skip) return;
    receiver = await WebhookReceiver.start();
    db = await createTestDatabase(name);
    server = await startServerProcess(db, { MUSTER_WEBHOOK_BACKOFF_BASE_MS: '50', MUSTER_WEBHOOK_BACKOFF_MAX_MS: '100', MUSTER_WEBHOOK_POLL_MS: '50' });
    agent = await startAgentProcess(server);
    await waitFor(async () => (await api('GET', `/v1/systems/${agent.systemId}`)).body.connected, 'the agent to connect');
  });
  afterAll(async () => {
    if (skip) return;
    await agent?.proc.stop();
    await server?.proc.stop();
    await receiver?.stop();
    await db?.drop();
  });

  it.skipIf(skip)('exposes every documented family with its type, in a scrape the strict parser accepts', async () => {
    const families = await scrape();
    for (const [family, type] of Object.entries(FAMILIES)) {
      expect(families.get(family)?.type, family).toBe(type);
      expect(families.get(family)?.help, family).toBeTruthy();
    }
    expect(sampleValue(families, 'muster_agents_connected', 'muster_agents_connected')).toBe(1);
    for (const state of ['pending', 'delivered', 'running']) expect(sampleValue(families, 'muster_runs', 'muster_runs', { state }), state).toBe(0);
    expect(sampleValue(families, 'muster_ingest_dead_letters', 'muster_ingest_dead_letters')).toBe(0);
    // The agent's own facts go through the queue as it connects: the depth is read live, and drains to 0.
    expect(sampleValue(families, 'muster_ingest_queue_depth', 'muster_ingest_queue_depth', { state: 'queued' })).toBeGreaterThanOrEqual(0);
    await waitFor(
      async () => sampleValue(await scrape(), 'muster_ingest_queue_depth', 'muster_ingest_queue_depth', { state: 'queued' }) === 0,
      'the queue to drain',
    );
    expect(sampleValue(families, 'muster_webhook_outbox', 'muster_webhook_outbox', { state: 'pending' })).toBe(0);
  });

  it.skipIf(skip)('moves with a job: runs by state while it runs, run latency once it ends, and the webhook delivery it causes', async () => {
    receiver.script('/m', [{ status: 503 }, { status: 200 }]);
    expect((await api('POST', '/v1/webhooks', { url: receiver.url('/m'), events: ['job.completed'] })).status).toBe(201);
    const before = await scrape();
    const latencyBefore = sampleValue(before, 'muster_run_latency_seconds', 'muster_run_latency_seconds_count', { state: 'succeeded' }) ?? 0;
    const launched = await api('POST', '/v1/jobs', { content: 'sleep 1.5', targets: { system_ids: [agent.systemId] } });
    const jobId = launched.body.job.id as string;
    const running = await waitFor(async () => {
      const f = await scrape();
      return sampleValue(f, 'muster_runs', 'muster_runs', { state: 'running' }) === 1 ? f : undefined;
    }, 'muster_runs{state="running"} to be 1');
    expect(sampleValue(running, 'muster_runs', 'muster_runs', { state: 'pending' })).toBe(0);
    await receiver.next((r) => r.path === '/m' && r.json?.data?.job?.id === jobId);
    const after = await waitFor(async () => {
      const f = await scrape();
      return sampleValue(f, 'muster_webhook_deliveries_total', 'muster_webhook_deliveries_total', { outcome: 'delivered', event: 'job.completed' }) === 1
        ? f
        : undefined;
    }, 'the delivery to be counted');
    expect(sampleValue(after, 'muster_runs', 'muster_runs', { state: 'running' })).toBe(0);
    const latency = (s: string, labels: Record<string, string>) => sampleValue(after, 'muster_run_latency_seconds', `muster_run_latency_seconds_${s}`, labels);
    expect(latency('count', { state: 'succeeded' })).toBe(latencyBefore + 1);
    // The run slept 1.5 s: it lands above the 1 s bucket and below 30 s.
    expect(latency('bucket', { state: 'succeeded', le: '1' })).toBe(0);
    expect(latency('bucket', { state: 'succeeded', le: '30' })).toBe(latencyBefore + 1);
    expect(latency('sum', { state: 'succeeded' })).toBeGreaterThanOrEqual(1.5);
    expect(sampleValue(after, 'muster_webhook_deliveries_total', 'muster_webhook_deliveries_total', { outcome: 'retry', event: 'job.completed' })).toBe(1);
    expect(sampleValue(after, 'muster_webhook_delivery_latency_seconds', 'muster_webhook_delivery_latency_seconds_count', { event: 'job.completed' })).toBe(1);
    expect(
      sampleValue(after, 'muster_transitions_total', 'muster_transitions_total', { kind: 'job', to: 'finished', reason: 'succeeded' }),
    ).toBeGreaterThanOrEqual(1);
    // HTTP requests are labelled by route pattern, never by the URL asked.
    expect(
      sampleValue(after, 'muster_http_requests_total', 'muster_http_requests_total', { method: 'GET', route: '/v1/systems/:id', status: '200' }),
    ).toBeGreaterThan(0);
    const routes = after.get('muster_http_requests_total')!.samples.map((s) => s.labels.route!);
    expect(routes.filter((r) => /[0-9a-f]{24}/.test(r))).toEqual([]);
    expect(routes).toContain('/v1/jobs');
  });

  it.skipIf(skip)('the Grafana dashboard and docs/metrics.md name only families the server exposes, and the docs name them all', async () => {
    const families = await scrape();
    const family = (name: string) => name.replace(/_(bucket|sum|count)$/, '');
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'contrib', 'grafana', 'muster-dashboard.json'), 'utf8'));
    expect(dashboard).toMatchObject({ title: 'muster', schemaVersion: expect.any(Number), uid: expect.any(String) });
    const panels = (dashboard.panels as any[]).filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    const used = new Set<string>();
    for (const p of panels) {
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) for (const m of (t.expr as string).matchAll(/muster_[a-z_]+/g)) used.add(family(m[0]));
    }
    expect([...used].filter((m) => !families.has(m))).toEqual([]);
    for (const f of Object.keys(FAMILIES)) expect(used, f).toContain(f);
    const doc = readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/`(muster_[a-z_]+)/g)].map((m) => family(m[1]!)));
    expect([...documented].filter((m) => !families.has(m))).toEqual([]);
    expect([...families.keys()].filter((m) => m.startsWith('muster_') && !documented.has(m))).toEqual([]);
  });

  it.skipIf(skip)('counts ingest commands by outcome and the dead letters they leave', async () => {
    const submit = async (certname: string, body: Record<string, unknown>) => {
      const res = await fetch(`${server.url}/pdb/cmd/v1?command=replace_facts&version=5&certname=${certname}&secondsToWaitForCompletion=10`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ certname, environment: 'production', producer_timestamp: '2026-11-23T10:00:00Z', values: {}, ...body }),
      });
      expect(res.status).toBe(200);
    };
    await submit('good1', { producer: 'p' });
    await submit('bad1', {});
    const f = await scrape();
    const processed = (outcome: string) =>
      sampleValue(f, 'muster_ingest_commands_processed_total', 'muster_ingest_commands_processed_total', { outcome, command: 'replace facts' });
    expect(processed('done')).toBeGreaterThanOrEqual(1);
    expect(processed('discarded')).toBe(1);
    expect(sampleValue(f, 'muster_ingest_dead_letters', 'muster_ingest_dead_letters')).toBe(1);
    // An unknown path is one label value, not one per URL.
    await call(server.url, undefined, 'GET', `/no/such/${'ab'.repeat(12)}`);
    const routes = (await scrape()).get('muster_http_requests_total')!.samples.map((s) => s.labels.route);
    expect(routes).toContain('unmatched');
    expect(routes.some((r) => r?.includes('abab'))).toBe(false);
  });
});
