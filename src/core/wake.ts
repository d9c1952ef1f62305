/**
 * Wake-ups between the parts of muster and between replicas (PostgreSQL
 * `NOTIFY`; in process on SQLite). Only a hint: a receiver re-reads the
 * database, and polls too, so a lost wake-up costs latency, never work. The
 * hub (topic `runs`) and the ingest workers use it; the store provides it.
 */
export interface WakeBus {
  publish(topic: string, payload: string): Promise<void>;
  subscribe(handler: (topic: string, payload: string) => void): void;
}
