import type { AgentMessage, RunDeliver, Unversioned } from '../../protocol/messages.js';

/** A delivered run with defaults, for tests. */
export function deliverMessage(runId: string, content: string, over: Partial<RunDeliver> = {}): RunDeliver {
  return { v: 1, type: 'run.deliver', run_id: runId, job_id: 'job1', shell: 'sh', content, env: {}, timeout_s: 30, run_as: null, ...over };
}

type Sent = Unversioned<AgentMessage>;
type OfType<T extends Sent['type']> = Extract<Sent, { type: T }>;

/**
 * Test helper: records messages as they are sent and lets a test await one
 * (event-driven, no polling).
 */
export class MessageLog {
  readonly messages: Sent[] = [];
  private waiters: Array<{ match: (m: Sent) => boolean; resolve: (m: Sent) => void }> = [];

  add(message: Sent): void {
    this.messages.push(message);
    for (const w of [...this.waiters]) {
      if (w.match(message)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(message);
      }
    }
  }

  /** Messages of a type, optionally for one run. */
  all<T extends Sent['type']>(type: T, runId?: string): Array<OfType<T>> {
    return this.messages.filter((m): m is OfType<T> => m.type === type && (runId === undefined || (m as { run_id?: string }).run_id === runId));
  }

  /** The `n`-th (from 1) message of a type for a run, now or when it is sent. */
  next<T extends Sent['type']>(type: T, runId?: string, n = 1): Promise<OfType<T>> {
    const match = (m: Sent) => m.type === type && (runId === undefined || (m as { run_id?: string }).run_id === runId);
    const have = this.messages.filter(match);
    if (have.length >= n) return Promise.resolve(have[n - 1] as OfType<T>);
    let seen = have.length;
    return new Promise((resolve) => {
      this.waiters.push({ match: (m) => match(m) && ++seen === n, resolve: (m) => resolve(m as OfType<T>) });
    });
  }
}
