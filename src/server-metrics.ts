import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Core } from './core/index.js';
import type { IngestObserver } from './core/ingest/index.js';
import { NON_TERMINAL_STATES, TERMINAL_STATES, type RunTransition } from './core/jobs/index.js';
import type { DeliveryObserver } from './core/webhooks/index.js';
import type { MetricsStore } from './store/index.js';

/** Seconds, from a tenth of a second to a day: runs take seconds to hours, a webhook retried for 24 h up to a day. */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400];

/** What the composition root hands the parts that report outcomes. */
export interface ServerMetrics {
  ingest: IngestObserver;
  webhooks: DeliveryObserver;
}

/**
 * The server's own Prometheus metrics, beside the HTTP ones (app.ts) and the
 * hub's (hub/metrics.ts). Backlogs (open runs, the ingest queue, dead
 * letters, the webhook outbox) are read from the database at scrape time,
 * so every replica reports the whole cluster's and a restart loses nothing;
 * the other series count what this replica did since it started.
 */
export function serverMetrics(registry: Registry, core: Core, store: MetricsStore, logger: Logger): ServerMetrics {
  const registers = [registry];
  // A scrape must not fail because one count did: the gauge keeps its last value and the log says why.
  const scraped = (read: () => Promise<Record<string, number>>, labelled: boolean) =>
    async function (this: Gauge<string>) {
      try {
        for (const [state, n] of Object.entries(await read())) {
          if (labelled) this.set({ state }, n);
          else this.set(n);
        }
      } catch (err) {
        logger.warn({ err }, 'a metric could not be read from the database');
      }
    };
  new Gauge({
    name: 'muster_runs',
    // Read from the database, the same on every worker: the sum over `--workers` would count it N times.
    aggregator: 'max',
    help: 'Runs not yet ended, by state (pending, delivered, running), across every replica',
    labelNames: ['state'],
    registers,
    collect: scraped(() => store.runsInStates(NON_TERMINAL_STATES), true),
  });
  new Gauge({
    name: 'muster_ingest_queue_depth',
    // Read from the database, the same on every worker: the sum over `--workers` would count it N times.
    aggregator: 'max',
    help: 'Ingest commands waiting (queued) or being processed (processing), across every replica',
    labelNames: ['state'],
    registers,
    collect: scraped(() => store.ingestInStates(['queued', 'processing']), true),
  });
  new Gauge({
    name: 'muster_ingest_dead_letters',
    // Read from the database, the same on every worker: the sum over `--workers` would count it N times.
    aggregator: 'max',
    help: 'Ingest commands in the dead letter office (discarded, not yet retried or deleted)',
    registers,
    collect: scraped(() => store.ingestInStates(['discarded']), false),
  });
  new Gauge({
    name: 'muster_webhook_outbox',
    // Read from the database, the same on every worker: the sum over `--workers` would count it N times.
    aggregator: 'max',
    help: 'Webhook deliveries waiting for an attempt (pending) or being sent (sending), across every replica',
    labelNames: ['state'],
    registers,
    collect: scraped(() => store.outboxInStates(['pending', 'sending']), true),
  });

  const runLatency = new Histogram({
    name: 'muster_run_latency_seconds',
    help: 'From a run’s creation to its end, by the state it ended in (runs ended on this replica)',
    labelNames: ['state'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  core.transitions.subscribe(async (batch) => {
    const ended = batch.filter((t): t is RunTransition => t.kind === 'run' && TERMINAL_STATES.includes(t.to));
    if (ended.length === 0) return;
    // The transition says when a run ended, not when it was created: one read per committed batch, off the engine's path.
    const created = await store.runsCreatedAt(ended.map((t) => t.runId));
    for (const t of ended) {
      const at = created.get(t.runId);
      if (at !== undefined) runLatency.observe({ state: t.to }, Math.max(0, (Date.parse(t.at) - Date.parse(at)) / 1000));
    }
  });

  const processed = new Counter({
    name: 'muster_ingest_commands_processed_total',
    help: 'Ingest commands processed on this replica, by outcome (done, retried, discarded)',
    labelNames: ['outcome', 'command'],
    registers,
  });
  const deliveries = new Counter({
    name: 'muster_webhook_deliveries_total',
    help: 'Webhook delivery attempts on this replica, by outcome (delivered, retry, failed) and event',
    labelNames: ['outcome', 'event'],
    registers,
  });
  const deliveryLatency = new Histogram({
    name: 'muster_webhook_delivery_latency_seconds',
    help: 'From an event’s delivery being queued to its receiver’s 2xx, retries included',
    labelNames: ['event'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  return {
    ingest: (outcome, record) => processed.inc({ outcome, command: record.command }),
    webhooks: (outcome, delivery, latencyMs) => {
      deliveries.inc({ outcome, event: delivery.event });
      if (latencyMs !== undefined) deliveryLatency.observe({ event: delivery.event }, latencyMs / 1000);
    },
  };
}
