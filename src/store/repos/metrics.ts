import type { Kysely } from 'kysely';
import { chunks } from '../chunks.js';
import type { Schema } from '../schema.js';

/** Counts of rows by state, for the states asked (zeros included). */
export type StateCounts<S extends string> = Record<S, number>;

/**
 * What /metrics reads from the database at scrape time: every count is over
 * states an index leads with (runs_state_deadline, ingest_commands_ready,
 * webhook_deliveries_due) and only over states that do not grow without
 * bound, so a scrape costs the size of the backlog, not of the history.
 */
export interface MetricsStore {
  runsInStates<S extends string>(states: readonly S[]): Promise<StateCounts<S>>;
  ingestInStates<S extends string>(states: readonly S[]): Promise<StateCounts<S>>;
  outboxInStates<S extends string>(states: readonly S[]): Promise<StateCounts<S>>;
  /** When each of these runs was created (runs that are gone are left out). */
  runsCreatedAt(ids: string[]): Promise<Map<string, string>>;
}

export function metricsStore(db: Kysely<Schema>): MetricsStore {
  const count = async <S extends string>(table: 'runs' | 'ingest_commands' | 'webhook_deliveries', states: readonly S[]): Promise<StateCounts<S>> => {
    const out = Object.fromEntries(states.map((s) => [s, 0])) as StateCounts<S>;
    const rows = await db
      .selectFrom(table)
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', 'in', [...states])
      .groupBy('state')
      .execute();
    for (const r of rows) out[r.state as S] = Number(r.n);
    return out;
  };
  return {
    runsInStates: (states) => count('runs', states),
    ingestInStates: (states) => count('ingest_commands', states),
    outboxInStates: (states) => count('webhook_deliveries', states),
    async runsCreatedAt(ids) {
      const out = new Map<string, string>();
      for (const part of chunks(ids))
        for (const r of await db.selectFrom('runs').select(['id', 'created_at']).where('id', 'in', part).execute()) out.set(r.id, r.created_at);
      return out;
    },
  };
}
