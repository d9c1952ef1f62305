import { backoffDelay } from '../../lib/backoff.js';
import type { IngestCommandRecord } from '../ingest/index.js';
import { RUN_STATES, type JobStore, type RunTransition, type Transition } from '../jobs/index.js';
import type { SystemRecord } from '../systems/index.js';
import { FAILED_RUN_STATES, type WebhookEvent } from './events.js';
import type { WebhookService } from './service.js';

/** Outbox writes tried again after a failure, over about 10 s in all. */
const RETRIES = 4;
const RETRY_BACKOFF = { baseMs: 500, maxMs: 5000 };

/**
 * Turns what the rest of core reports (committed transitions, enrollments,
 * deletions, dead letters) into webhook events and hands them to the outbox
 * in batches. Every entry point only buffers and returns: the outbox write
 * happens on a later turn of the event loop, one at a time, so neither the
 * job engine nor an enrollment ever waits on it. Events buffered while a
 * write is in flight go in the next one.
 */
export class WebhookSources {
  private buffer: Array<() => Promise<WebhookEvent[]>> = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;

  constructor(
    private readonly webhooks: WebhookService,
    private readonly jobs: Pick<JobStore, 'getJob' | 'countRuns'>,
    private readonly onError: (err: unknown, context: Record<string, unknown>) => void,
  ) {}

  /** A transition subscriber: finished jobs become `job.completed`, runs ending badly `run.failed`. */
  readonly transitions = (batch: readonly Transition[]): void => {
    const finished = batch.filter((t) => t.kind === 'job' && t.to === 'finished');
    const failed = batch.filter((t): t is RunTransition => t.kind === 'run' && (FAILED_RUN_STATES as readonly string[]).includes(t.to));
    if (failed.length > 0) this.add(async () => failed.map(runFailed));
    if (finished.length > 0) this.add(() => this.jobsCompleted(finished));
  };

  /** A new system: `system.enrolled`. */
  systemEnrolled(system: SystemRecord): void {
    this.add(async () => [
      { organizationId: system.organizationId, event: 'system.enrolled', occurredAt: system.createdAt, data: { system: systemData(system) } },
    ]);
  }

  /** A deleted system: `system.deleted`. */
  systemDeleted(system: SystemRecord, at: Date): void {
    this.add(async () => [
      { organizationId: system.organizationId, event: 'system.deleted', occurredAt: at.toISOString(), data: { system: systemData(system) } },
    ]);
  }

  /** A command sent to the dead letter office: `ingest.discarded`. */
  ingestDiscarded(record: IngestCommandRecord, error: string, at: string): void {
    this.add(async () => [
      {
        organizationId: record.organizationId,
        event: 'ingest.discarded',
        occurredAt: at,
        data: {
          command: {
            id: record.id,
            command: record.command,
            version: record.version,
            certname: record.certname,
            received_at: record.receivedAt,
            attempts: record.attempts,
            error,
          },
        },
      },
    ]);
  }

  /** Resolves once everything buffered so far is in the outbox (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.flushing || this.buffer.length > 0 || this.scheduled) await (this.flushing ?? new Promise((r) => setImmediate(r)));
  }

  private add(make: () => Promise<WebhookEvent[]>): void {
    this.buffer.push(make);
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.flush().finally(() => (this.flushing = undefined));
    });
  }

  /**
   * Writes what is buffered, batch after batch. A failed write (the database
   * away for a moment) is tried again, RETRIES times with backoff, before
   * its events are given up and reported.
   */
  private async flush(): Promise<void> {
    while (this.buffer.length > 0) {
      const makers = this.buffer.splice(0, this.buffer.length);
      for (let attempt = 0; ; attempt++) {
        try {
          const events = (await Promise.all(makers.map((m) => m()))).flat();
          await this.webhooks.publish(events);
          break;
        } catch (err) {
          if (attempt >= RETRIES) {
            this.onError(err, { during: 'queueing webhook deliveries', batches: makers.length });
            break;
          }
          await new Promise((r) => setTimeout(r, backoffDelay(attempt, RETRY_BACKOFF)));
        }
      }
    }
  }

  /** Finished jobs of organizations that subscribe to `job.completed`, with their counts as they finished. */
  private async jobsCompleted(finished: Transition[]): Promise<WebhookEvent[]> {
    const wanted = await this.webhooks.subscribed(
      finished.map((t) => t.organizationId),
      'job.completed',
    );
    const out: WebhookEvent[] = [];
    for (const t of finished) {
      if (!wanted.has(t.organizationId)) continue;
      const job = await this.jobs.getJob(t.organizationId, t.jobId);
      if (!job) continue;
      const found = await this.jobs.countRuns(job.id);
      const counts = Object.fromEntries(RUN_STATES.map((s) => [s, found[s] ?? 0]));
      out.push({
        organizationId: t.organizationId,
        event: 'job.completed',
        occurredAt: t.at,
        data: {
          job: {
            id: job.id,
            status: t.reason,
            total: job.total,
            counts,
            source: job.source,
            script_id: job.scriptId,
            selector: job.selector,
            stopped_reason: job.stoppedReason,
            created_by: job.createdBy,
            created_at: job.createdAt,
            finished_at: job.finishedAt ?? t.at,
          },
        },
      });
    }
    return out;
  }
}

function runFailed(t: RunTransition): WebhookEvent {
  return {
    organizationId: t.organizationId,
    event: 'run.failed',
    occurredAt: t.at,
    data: { run: { id: t.runId, job_id: t.jobId, system_id: t.systemId, state: t.to, previous_state: t.from, reason: t.reason, ended_at: t.at } },
  };
}

function systemData(s: SystemRecord): Record<string, unknown> {
  return { id: s.id, hostname: s.hostname, display_name: s.displayName, os: s.os, arch: s.arch, tags: s.tags, created_at: s.createdAt };
}
