import type { Clock } from '../clock.js';
import type { StreamWakeup } from './stream-wakeup.js';
import { BatchWriter } from '../batch-writer.js';
import { capTail } from './output.js';
import type { RunNotifier } from './notifier.js';
import { TERMINAL_STATES, type RunState } from './run-states.js';
import type { Delivery, JobStore, ResultToStore, RunCompletion, RunStart, StoreOutcome } from './store.js';
import { TransitionSink, type Transition } from './transitions.js';

/** Starts are written at most this late (a run that ends sooner never has its start written). */
const START_DELAY_MS = 50;

/** By default a run whose agent vanished counts as lost this long after its timeout (beyond the agent's own kill grace). */
const LOST_GRACE_S = 60;

/** What an agent reports at the end of a run (the protocol's run.result, minus framing). */
export interface AgentResult {
  run_id: string;
  outcome: 'exited' | 'signaled' | 'timed_out' | 'cancelled' | 'failed_to_start' | 'lost';
  exit_code: number | null;
  signal: string | null;
  started_at: string | null;
  finished_at: string;
  stdout: string;
  stderr: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  error: string | null;
}

/** Turns an agent's outcome into a run state and a human reason. Expected failures are data. */
function completionState(result: AgentResult): { state: RunState; reason: string | null } {
  switch (result.outcome) {
    case 'exited':
      return result.exit_code === 0 ? { state: 'succeeded', reason: null } : { state: 'failed', reason: `exited with code ${result.exit_code}` };
    case 'signaled':
      return { state: 'failed', reason: `killed by signal ${result.signal ?? 'unknown'}` };
    case 'timed_out':
      return { state: 'timed_out', reason: result.error ?? 'did not finish within its timeout; its process group was killed' };
    case 'cancelled':
      return { state: 'cancelled', reason: result.error ?? 'cancelled' };
    case 'failed_to_start':
      return { state: 'failed', reason: result.error ?? 'the script could not be started' };
    case 'lost':
      return { state: 'lost', reason: result.error ?? 'the agent lost track of this run' };
  }
}

/**
 * The server side of a run's life, driven by the agent hub: claim for
 * delivery, started, output, result. Every step checks that the run belongs to
 * the reporting system, and every step is idempotent (agents resend).
 */
export class RunLifecycle {
  /** Live-chunk bytes per running run on this replica. */
  private readonly chunkBytes = new Map<string, number>();
  private readonly results: BatchWriter<ResultToStore, StoreOutcome>;
  /** Starts not yet written, by run id; a result arriving first makes its start moot. */
  private readonly starts = new Map<string, RunStart>();
  private startsWritten: Promise<void> | undefined;

  constructor(
    private readonly jobs: JobStore,
    private readonly clock: Clock,
    private readonly outputBytes: number,
    private readonly notifier: RunNotifier,
    private readonly lostGraceS = LOST_GRACE_S,
    private readonly streamWakeup?: StreamWakeup,
    private readonly transitions: TransitionSink = new TransitionSink(),
  ) {
    this.results = new BatchWriter(async (items) => {
      const { outcomes, effects, transitions: changed } = await jobs.completeRuns(items, clock.now().toISOString());
      const waiting = effects.flatMap((e) => e.waitingSystems);
      if (waiting.length > 0) this.notifier.runsCreated([...new Set(waiting)]);
      // One publication per batch, not per result: 10,000 results wake live streams ~10 times.
      this.transitions.publish(changed);
      return outcomes;
    });
    // A run that ended by any path (a result, the sweep, a cancel) needs no more of this replica's memory.
    transitions.subscribe((batch) => this.forgetEnded(batch));
  }

  private forgetEnded(batch: readonly Transition[]): void {
    for (const t of batch) {
      if (t.kind !== 'run' || !TERMINAL_STATES.includes(t.to)) continue;
      this.chunkBytes.delete(t.runId);
      this.starts.delete(t.runId);
    }
  }

  /** Runs marked delivered to this system that its agent, just reconnected, says it does not have: to send again. */
  async undelivered(systemId: string, agentActive: string[]): Promise<Delivery[]> {
    return this.jobs.undelivered(systemId, agentActive);
  }

  /**
   * Claims the pending runs of many connected systems in one transaction (a
   * launch to 10,000 systems: one claim, not 10,000); keyed by system id.
   */
  async deliverableBatch(systemIds: string[]): Promise<Map<string, Delivery[]>> {
    const { deliveries, transitions } = await this.jobs.claimPendingBatch(systemIds, this.clock.now().toISOString(), this.lostGraceS);
    this.transitions.publish(transitions);
    return deliveries;
  }

  /**
   * After a (re)connect: the cancellations this agent still has to carry out.
   * Runs it does not have are ended here; the others it must stop.
   */
  async pendingCancels(systemId: string, agentActive: string[]): Promise<string[]> {
    const requested = await this.jobs.cancelRequested(systemId);
    const active = new Set(agentActive);
    this.transitions.publish(
      await this.jobs.cancelAbsent(
        systemId,
        requested.filter((id) => !active.has(id)),
        this.clock.now().toISOString(),
      ),
    );
    return requested.filter((id) => active.has(id));
  }

  /** Of these connected systems, those that have runs waiting (the polling fallback). */
  async systemsWithPending(systemIds: string[]): Promise<string[]> {
    return systemIds.length === 0 ? [] : this.jobs.systemsWithPending(systemIds);
  }

  /**
   * Marks a run running, soon: starts are written in one batch every
   * START_DELAY_MS, and a start whose result arrives first is never written
   * (the result carries started_at). Resolves once its batch is written. The
   * hub does not wait for it: `running` only informs viewers, and the lost
   * sweep treats it like `delivered`. A 10,000-run fan-out of quick scripts so
   * saves 10,000 row updates.
   */
  started(systemId: string, runId: string, at: string): Promise<void> {
    this.starts.set(runId, { systemId, runId, at });
    if (!this.startsWritten) {
      this.startsWritten = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => this.flushStarts().then(resolve, reject), START_DELAY_MS);
        timer.unref();
      });
    }
    return this.startsWritten;
  }

  /** Writes the starts waiting now (the timer calls this; so may tests). */
  async flushStarts(): Promise<void> {
    this.startsWritten = undefined;
    const items = [...this.starts.values()];
    this.starts.clear();
    if (items.length > 0) this.transitions.publish(await this.jobs.markStartedBatch(items));
  }

  /**
   * Stores a live chunk. Chunks only feed live viewers (the result carries the
   * authoritative output), so past twice the output cap a run's further chunks
   * are dropped rather than letting one noisy script fill the database.
   */
  async output(systemId: string, runId: string, seq: number, stream: 'stdout' | 'stderr', data: string): Promise<void> {
    const seen = (this.chunkBytes.get(runId) ?? 0) + data.length;
    this.chunkBytes.set(runId, seen);
    if (seen > 2 * this.outputBytes) return;
    await this.jobs.appendChunk(systemId, runId, seq, stream, data, this.clock.now().toISOString());
    this.streamWakeup?.notify();
  }

  /**
   * Stores a result, batched with others arriving at the same time (group
   * commit); resolves once committed: true when the agent may forget it
   * (stored now or already), false when the run is not this system's.
   */
  async complete(systemId: string, result: AgentResult): Promise<boolean> {
    const { state, reason } = completionState(result);
    this.chunkBytes.delete(result.run_id);
    this.starts.delete(result.run_id);
    const stdout = capTail(result.stdout, this.outputBytes);
    const stderr = capTail(result.stderr, this.outputBytes);
    const completion: RunCompletion = {
      state,
      reason,
      exitCode: result.exit_code,
      signal: result.signal,
      stdout: stdout.text,
      stderr: stderr.text,
      stdoutTruncated: stdout.truncated || result.stdout_truncated,
      stderrTruncated: stderr.truncated || result.stderr_truncated,
      startedAt: result.started_at,
      finishedAt: result.finished_at,
    };
    return (await this.results.submit({ systemId, runId: result.run_id, completion })) !== 'unknown';
  }
}
