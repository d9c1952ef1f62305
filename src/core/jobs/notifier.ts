import type { RunRef } from './store.js';

/** Tells the delivery layer what changed. Hints only: receivers re-read the database. */
export interface RunNotifier {
  /** These systems may have runs to deliver. */
  runsCreated(systemIds: string[]): void;
  /** These in-flight runs must be stopped by their agents. */
  cancelRuns(runs: RunRef[]): void;
}
