import { Counter, Gauge, type Registry } from 'prom-client';

/** The hub's Prometheus metrics. */
export interface HubMetrics {
  connected: Gauge;
  messages: Counter<'type'>;
  results: Counter<'outcome'>;
  delivered: Counter;
  /** Wake-ups from other replicas acted on: `targeted` (systems held here), `broadcast` (every system here). */
  wakeups: Counter<'kind'>;
  /** Re-reads of every system connected here for waiting runs, by reason (`sweep`, `wake`). */
  scans: Counter<'reason'>;
  /** Times a connection's socket stopped being read because a family's queue was full. */
  paused: Counter<'family'>;
}

export function hubMetrics(registry: Registry): HubMetrics {
  return {
    connected: new Gauge({ name: 'muster_agents_connected', help: 'Agents connected to this replica', registers: [registry] }),
    messages: new Counter({ name: 'muster_agent_messages_total', help: 'Messages received from agents, by type', labelNames: ['type'], registers: [registry] }),
    results: new Counter({ name: 'muster_run_results_total', help: 'Run results stored, by agent outcome', labelNames: ['outcome'], registers: [registry] }),
    delivered: new Counter({ name: 'muster_runs_delivered_total', help: 'Runs sent to agents', registers: [registry] }),
    wakeups: new Counter({
      name: 'muster_hub_wakeups_total',
      help: 'Wake-ups from other replicas acted on, by kind (targeted, broadcast)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    scans: new Counter({
      name: 'muster_hub_pending_scans_total',
      help: 'Re-reads of every system connected here for waiting runs, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    paused: new Counter({
      name: 'muster_hub_backpressure_total',
      help: 'Times an agent socket stopped being read because a message family queue was full, by family',
      labelNames: ['family'],
      registers: [registry],
    }),
  };
}
