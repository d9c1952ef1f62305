export const RUN_STATES = ['pending', 'delivered', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'undeliverable', 'lost'] as const;
export type RunState = (typeof RUN_STATES)[number];
export const TERMINAL_STATES: readonly RunState[] = ['succeeded', 'failed', 'timed_out', 'cancelled', 'undeliverable', 'lost'];
/** States a run has not left yet: its job is not finished while one of its runs is in one. */
export const NON_TERMINAL_STATES: readonly RunState[] = ['pending', 'delivered', 'running'];
/** States of a run handed to its agent and not ended: it holds a concurrency slot, and a vanished agent makes it `lost`. */
export const IN_FLIGHT_STATES: readonly RunState[] = ['delivered', 'running'];
/** States that count against `max_errors`: the script ran (or was running) and did not succeed. */
export const ERROR_STATES: readonly RunState[] = ['failed', 'timed_out', 'lost'];
/** States a retry relaunches. */
export const RETRYABLE_STATES: readonly RunState[] = ['failed', 'timed_out', 'lost', 'undeliverable'];
