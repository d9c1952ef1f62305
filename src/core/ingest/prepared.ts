import type { IngestCommandRecord, IngestEffect } from './types.js';
import { effectOf } from './wire.js';

interface Entry {
  effect: IngestEffect;
  payload: string;
  at: number;
  /** Claimed by a worker of this process: kept until taken, whatever the size bound. */
  claimed: boolean;
}

/**
 * Effects worked out at submission, for this process's workers. Submission
 * already parses the payload (to refuse malformed JSON and check the
 * certname), so it also checks the wire format and keeps the effect and the
 * payload text here; a worker that claims the command takes them instead of
 * reading the payload back and parsing it a second time (measured: 10 % of
 * the server's CPU time on reports). What is kept is only a shortcut: the
 * command is in the queue with its payload, and a worker that finds no entry
 * (another replica's command, a restart, an evicted entry) reads it from there.
 *
 * Bounded by payload characters and age; claimed entries are exempt from the
 * size bound (the claim counted on them) but not from the age bound.
 */
export class PreparedEffects {
  private readonly entries = new Map<string, Entry>();
  private chars = 0;

  constructor(
    private readonly maxChars = 4 * 1024 * 1024,
    private readonly maxAgeMs = 120_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Works out and keeps the effect of a command about to be queued, from its
   * parsed payload. Not for a catalog: its effect holds its re-serialized body
   * and every resource's text besides the payload, three times the memory
   * while it waits (peak RSS +8 MB under the catalog benchmark), so its worker
   * parses it. Nor for a payload that breaks its wire format: a worker sends
   * that to the dead letter office, as PuppetDB does.
   */
  prepare(record: IngestCommandRecord, parsed: unknown): void {
    if (record.command === 'replace catalog' || record.payload === null) return;
    let effect;
    try {
      effect = effectOf(record, parsed);
    } catch {
      return;
    }
    this.put(record.id, effect, record.payload);
  }

  /** Keeps an effect (not when the payload alone would take a quarter of the bound). */
  put(id: string, effect: IngestEffect, payload: string): void {
    if (payload.length > this.maxChars / 4) return;
    this.evict(payload.length);
    this.entries.set(id, { effect, payload, at: this.now(), claimed: false });
    this.chars += payload.length;
  }

  /** For a claim: the command's payload when this process holds it (the entry is then kept until taken). */
  claim(id: string): string | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    e.claimed = true;
    return e.payload;
  }

  /** The effect and payload of a command, removed. */
  take(id: string): { effect: IngestEffect; payload: string } | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.remove(id, e);
    return { effect: e.effect, payload: e.payload };
  }

  /** Forgets a command (its enqueue failed). */
  drop(id: string): void {
    const e = this.entries.get(id);
    if (e) this.remove(id, e);
  }

  get size(): number {
    return this.entries.size;
  }

  private remove(id: string, e: Entry): void {
    this.entries.delete(id);
    this.chars -= e.payload.length;
  }

  /** Oldest first: entries past their age, then unclaimed ones until `incoming` more characters fit. */
  private evict(incoming: number): void {
    const oldest = this.now() - this.maxAgeMs;
    for (const [id, e] of this.entries) {
      if (e.at >= oldest && this.chars + incoming <= this.maxChars) return;
      if (e.at < oldest || !e.claimed) this.remove(id, e);
    }
  }
}
