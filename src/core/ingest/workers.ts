import type { Clock } from '../clock.js';
import { Pruner } from '../pruner.js';
import type { IngestService } from './service.js';
import type { ClaimRequest, Completion, DiscardWriter, IngestCommandRecord, IngestEffect, IngestQueueStore } from './types.js';
import { effectOf, WireFormatError } from './wire.js';

export interface WorkerOptions {
  /** Concurrent claim loops in this process. */
  count: number;
  /** Commands claimed (and committed) together. */
  batch: number;
  /**
   * Payload bytes claimed together, at most (a batch always takes one): the
   * parsed payloads of a batch are in memory at once, and 100 catalogs of 50
   * resources raised peak RSS by tens of MB (measured; docs/benchmarks.md).
   */
  batchBytes: number;
  /** How long a claim holds a command before another worker may reclaim it. */
  leaseMs: number;
  /** Polling fallback when no wake-up arrives. */
  pollMs: number;
  /**
   * Attempts a command gets before it goes to the dead letter office (5 by
   * default, as PuppetDB retries a failing command): each claim is one, so a
   * processing failure and a claim that ended without an outcome (a crash, a
   * hang past the lease) both count.
   */
  maxAttempts: number;
  /** First retry delay; doubles per attempt. */
  backoffMs: number;
  /**
   * With a batch smaller than `batch`, wait this long before the commit that
   * completes it and claims the next, so the next one fills: every commit is
   * an fsync on SQLite (2.4–4.4 ms on this machine, measured), so tiny batches
   * cost throughput. Processing latency grows by up to this much.
   */
  lingerMs: number;
  /** How long a processed command stays visible (`GET /v1/ingest/commands/{uuid}`) before it is deleted. */
  keepDoneMs: number;
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = {
  count: 2,
  batch: 100,
  batchBytes: 1024 * 1024,
  leaseMs: 60_000,
  pollMs: 1000,
  maxAttempts: 5,
  backoffMs: 500,
  lingerMs: 50,
  keepDoneMs: 86_400_000,
};

/** How a processing attempt ended: applied, put back to retry later, or sent to the dead letter office. */
export type IngestOutcome = 'done' | 'retried' | 'discarded';

/** Told about every command's outcome (metrics, webhooks); `error` is set for retried and discarded ones. */
export type IngestObserver = (outcome: IngestOutcome, record: IngestCommandRecord, error: string | undefined, at: string) => void;

type Prepared =
  | { record: IngestCommandRecord; completion: Completion }
  | { record: IngestCommandRecord; wireError: string }
  | { record: IngestCommandRecord; failure: unknown };

/**
 * A claimed command's effect: the one worked out at submission when this
 * process has it, else from its payload. Never throws: a payload that breaks
 * its wire format is a wire error, and anything else that goes wrong here (a
 * payload nested so deep that serializing it overflows the stack) is a
 * failure of this one command, retried and discarded like any other.
 */
function prepare(record: IngestCommandRecord, prepared: IngestEffect | undefined): Prepared {
  try {
    const effect = prepared ?? effectOf(record, JSON.parse(record.payload ?? 'null'));
    return { record, completion: { id: record.id, organizationId: record.organizationId, effect } };
  } catch (err) {
    if (err instanceof WireFormatError || err instanceof SyntaxError) return { record, wireError: err.message };
    return { record, failure: err };
  }
}

/**
 * The claim loops: claim a batch, check each payload against its wire format,
 * apply the valid ones with their completion in one transaction, send broken
 * ones to the dead letter office at once and retry failed ones with backoff.
 * At-least-once: a crash mid-batch leaves leases that expire and are reclaimed;
 * the store applies effects idempotently.
 *
 * Every claim counts an attempt, and no command gets more than `maxAttempts`:
 * one that fails that many times, or whose claims keep ending without an
 * outcome (the process died or hung while holding it, so its lease expired),
 * goes to the dead letter office with its last error. A failing command
 * waits out its backoff in the queue, not under a lease, so the commands
 * behind it for the same certname are claimed and processed meanwhile.
 */
export class IngestWorkers {
  private stopping = false;
  private loops: Promise<void>[] = [];
  private wakes = new Set<() => void>();
  private unsubscribe: (() => void) | undefined;
  private readonly pruner: Pruner;

  constructor(
    private readonly queue: IngestQueueStore,
    private readonly ingest: IngestService,
    private readonly clock: Clock,
    private readonly options: WorkerOptions,
    private readonly discards: DiscardWriter | undefined,
    private readonly onError: (err: unknown) => void,
    private readonly observe: IngestObserver = () => undefined,
  ) {
    this.pruner = new Pruner(clock, options.keepDoneMs, Math.min(options.keepDoneMs, 600_000), (before) => queue.pruneDone(before), onError);
  }

  /** Starts `count` claim loops and the pruning of old done commands. */
  start(): void {
    this.stopping = false;
    this.unsubscribe = this.ingest.onWork(() => this.wakeAll());
    for (let i = 0; i < this.options.count; i++) this.loops.push(this.loop());
    this.pruner.start();
  }

  /** Deletes done commands older than keepDoneMs (dead letters stay until deleted). */
  prune(): Promise<number> {
    return this.pruner.prune();
  }

  /** Stops claiming and waits for the batches in hand; claimed but unfinished ones are reclaimed later. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.pruner.stop();
    this.unsubscribe?.();
    this.wakeAll();
    await Promise.all(this.loops);
    this.loops = [];
  }

  private wakeAll(): void {
    for (const w of [...this.wakes]) w();
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakes.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.options.pollMs);
      this.wakes.add(done);
    });
  }

  private async loop(): Promise<void> {
    let next: IngestCommandRecord[] = [];
    while (!this.stopping) {
      let taken = 0;
      try {
        const claimed = next.length > 0 ? next : await this.claim();
        taken = claimed.length;
        // A short batch: let the next one fill before the commit that completes this one and claims it.
        if (taken > 0 && !this.full(claimed) && this.options.lingerMs > 0) await new Promise((r) => setTimeout(r, this.options.lingerMs));
        next = taken > 0 ? await this.process(claimed, true) : [];
      } catch (err) {
        next = [];
        this.onError(err);
      }
      if (!this.stopping && taken === 0) await this.idle();
    }
  }

  /** Whether a batch is as big as a claim takes: by count, or by bytes when one more payload of its average size would not have fit. */
  private full(claimed: IngestCommandRecord[]): boolean {
    if (claimed.length >= this.options.batch) return true;
    const bytes = claimed.reduce((sum, c) => sum + (c.payload?.length ?? 0), 0);
    return bytes + bytes / claimed.length > this.options.batchBytes;
  }

  private claim(): Promise<IngestCommandRecord[]> {
    return this.queue.claim(this.claimRequest(this.clock.now()));
  }

  /** A batch as the options size it; payloads submitted to this process are taken from memory, not read back (prepared.ts). */
  private claimRequest(now: Date): ClaimRequest {
    return {
      limit: this.options.batch,
      now: now.toISOString(),
      leaseUntil: new Date(now.getTime() + this.options.leaseMs).toISOString(),
      maxBytes: this.options.batchBytes,
      inMemory: (id) => this.ingest.prepared.claim(id),
    };
  }

  /** Claims and processes one batch; returns how many commands it took. */
  async runOnce(): Promise<number> {
    const claimed = await this.claim();
    if (claimed.length > 0) await this.process(claimed, false);
    return claimed.length;
  }

  /** Processes a claimed batch; with `chain`, returns the next batch, claimed in the completing transaction. */
  private async process(claimed: IngestCommandRecord[], chain: boolean): Promise<IngestCommandRecord[]> {
    const good: Array<{ record: IngestCommandRecord; completion: Completion }> = [];
    for (const record of claimed) {
      const held = this.ingest.prepared.take(record.id)?.effect;
      if (record.attempts > this.options.maxAttempts) {
        await this.abandoned(record);
        continue;
      }
      const p = prepare(record, held);
      if ('wireError' in p) await this.discard(p.record, p.wireError, 'the payload does not match the wire format of its command and version');
      else if ('failure' in p) await this.failed(p.record, p.failure);
      else good.push(p);
    }
    return good.length > 0 ? this.completeAll(good, chain) : [];
  }

  /**
   * A command claimed more than `maxAttempts` times: its attempts are spent,
   * the last of them (at least) ended without an outcome, its lease expiring
   * while the process that held it stopped or hung.
   */
  private async abandoned(record: IngestCommandRecord): Promise<void> {
    const tries = record.attempts - 1;
    const last = record.error ?? 'none recorded';
    const error = `processing did not finish in ${tries} attempts (the process stopped or hung while holding it); last error: ${last}`;
    await this.discard(record, error, `claimed ${tries} times without an outcome; not processed again`);
  }

  private async completeAll(good: Array<{ record: IngestCommandRecord; completion: Completion }>, chain = false): Promise<IngestCommandRecord[]> {
    const now = this.clock.now();
    try {
      const next = await this.queue.complete(
        good.map((g) => g.completion),
        now.toISOString(),
        chain ? this.claimRequest(now) : undefined,
      );
      for (const g of good) {
        this.ingest.completions.settle(g.record.id, { state: 'done', error: null });
        this.observe('done', g.record, undefined, now.toISOString());
      }
      return next;
    } catch (err) {
      if (good.length === 1) {
        await this.failed(good[0]!.record, err);
        return [];
      }
    }
    // One bad command must not hold back the rest of its batch: retry each alone.
    for (const g of good) await this.completeAll([g]);
    return [];
  }

  /** A processing failure: retried after a backoff that doubles per attempt, discarded after the last attempt. */
  private async failed(record: IngestCommandRecord, err: unknown): Promise<void> {
    const message = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
    if (record.attempts >= this.options.maxAttempts) {
      return this.discard(record, message, `failed ${record.attempts} attempts; last: ${err instanceof Error ? (err.stack ?? message) : message}`);
    }
    const delay = this.options.backoffMs * 2 ** (record.attempts - 1);
    const now = this.clock.now();
    await this.queue.retryLater(record.id, `attempt ${record.attempts}: ${message}`, new Date(now.getTime() + delay).toISOString());
    this.observe('retried', record, message, now.toISOString());
  }

  private async discard(record: IngestCommandRecord, error: string, diagnostics: string): Promise<void> {
    const at = this.clock.now().toISOString();
    const attempts = `Attempt ${record.attempts} @ ${at}\n${diagnostics}`;
    await this.queue.discard(record.id, error, attempts, at);
    try {
      await this.discards?.write(record, error, attempts, at);
    } catch (err) {
      this.onError(err);
    }
    this.ingest.completions.settle(record.id, { state: 'discarded', error });
    this.observe('discarded', record, error, at);
  }
}
