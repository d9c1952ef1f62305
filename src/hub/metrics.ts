import { Counter, Gauge, type Registry } from 'prom-client';

/** The hub's Prometheus metrics. */
export interface HubMetrics {
  connected: Gauge;
  messages: Counter<'type'>;
  results: Counter<'outcome'>;
  delivered: Counter;
}

export function hubMetrics(registry: Registry): HubMetrics {
  return {
    connected: new Gauge({ name: 'muster_agents_connected', help: 'Agents connected to this replica', registers: [registry] }),
    messages: new Counter({ name: 'muster_agent_messages_total', help: 'Messages received from agents, by type', labelNames: ['type'], registers: [registry] }),
    results: new Counter({ name: 'muster_run_results_total', help: 'Run results stored, by agent outcome', labelNames: ['outcome'], registers: [registry] }),
    delivered: new Counter({ name: 'muster_runs_delivered_total', help: 'Runs sent to agents', registers: [registry] }),
  };
}
