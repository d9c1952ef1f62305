import type { RunState } from './run-states.js';

/** Why a run or a job changed state: a closed set, so subscribers can switch over it exhaustively. */
export const TRANSITION_REASONS = [
  /** A job and its runs were written. */
  'launched',
  /** A pending run was claimed for its agent. */
  'delivered',
  /** The agent said the script started. */
  'started',
  /** Agent outcomes: the run ended so (a late result replacing `lost` says so by its `from`). */
  'succeeded',
  'failed',
  'timed_out',
  /** Someone cancelled the job or the run, or the agent ended a cancelled run. */
  'cancelled',
  /** The agent vanished (the sweep), or came back without the run. */
  'lost',
  /** The system never connected within the job's time-to-live. */
  'undeliverable',
  /** Too many runs failed: delivery stopped and the waiting runs were cancelled. */
  'max_errors',
] as const;
export type TransitionReason = (typeof TRANSITION_REASONS)[number];

/**
 * A job's phase as transitions see it: `running` while delivery goes on,
 * `stopped` once delivery stopped early (cancel, max_errors) with runs still
 * open, `finished` once every run has ended.
 */
export type JobPhase = 'running' | 'stopped' | 'finished';

/** One run moved from one state to another (`from` is null at launch). */
export interface RunTransition {
  kind: 'run';
  runId: string;
  jobId: string;
  systemId: string;
  organizationId: string;
  from: RunState | null;
  to: RunState;
  reason: TransitionReason;
  at: string;
}

/**
 * One job moved from one phase to another (`from` is null at launch). A job
 * that finishes gives its status as the reason: `succeeded`, `failed` or
 * `cancelled`, by the same rule as the job's view.
 */
export interface JobTransition {
  kind: 'job';
  jobId: string;
  organizationId: string;
  from: JobPhase | null;
  to: JobPhase;
  reason: TransitionReason;
  at: string;
}

/** What changed, as the store's atomic statements decided it. */
export type Transition = RunTransition | JobTransition;

/** A subscriber sees each committed batch once, in commit order on this replica. */
export type TransitionSubscriber = (transitions: readonly Transition[]) => void | Promise<void>;

/**
 * The one place the rest of the system learns what the engine changed. The
 * engine publishes each batch after its transaction committed; fan-out is
 * synchronous, and a subscriber that throws (or rejects) is reported to
 * `onError` and never breaks the engine or the other subscribers. A
 * subscriber sees only this replica's changes.
 */
export class TransitionSink {
  private readonly subscribers = new Set<TransitionSubscriber>();

  constructor(private readonly onError: (err: unknown, context: Record<string, unknown>) => void = () => undefined) {}

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(fn: TransitionSubscriber): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** Hands a committed batch to every subscriber; an empty batch is not published. */
  publish(transitions: readonly Transition[]): void {
    if (transitions.length === 0) return;
    for (const fn of [...this.subscribers]) {
      try {
        const done = fn(transitions);
        if (done) done.catch((err: unknown) => this.report(err, transitions));
      } catch (err) {
        this.report(err, transitions);
      }
    }
  }

  private report(err: unknown, transitions: readonly Transition[]): void {
    try {
      this.onError(err, { during: 'a transition subscriber', transitions: transitions.length });
    } catch {
      // The error sink itself failed: nothing more can be done without breaking the engine.
    }
  }
}

/** The reason code of a run ending in `state` by an agent's result. */
export function resultReason(state: RunState): TransitionReason {
  switch (state) {
    case 'succeeded':
    case 'failed':
    case 'timed_out':
    case 'cancelled':
    case 'lost':
    case 'undeliverable':
      return state;
    case 'pending':
    case 'delivered':
      return 'delivered';
    case 'running':
      return 'started';
  }
}
