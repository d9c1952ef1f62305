import { requireRole, type Actor } from '../access/index.js';
import { MusterError, notFound } from '../errors.js';
import { isId } from '../ids.js';
import type { StreamWakeup } from './stream-wakeup.js';
import type { EventCursor, EventScope, JobStore } from './store.js';
import { TERMINAL_STATES } from './run-states.js';
import type { Transition, TransitionSink } from './transitions.js';

/** One server-sent event: its resumable id, its type, its JSON data. */
export interface StreamEvent {
  id?: string;
  event: 'output' | 'run' | 'end';
  data: Record<string, unknown>;
}

const BATCH = 500;
/** Without a local wake-up (a change on another replica), streams look again this often. */
const POLL_MS = 500;

function encodeCursor(cursor: EventCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(id: string | undefined): EventCursor {
  if (!id) return { output: null, ended: null };
  try {
    const c = JSON.parse(Buffer.from(id, 'base64url').toString('utf8')) as EventCursor;
    if (typeof c === 'object' && c !== null && 'output' in c && 'ended' in c) return c;
  } catch {
    // fall through
  }
  throw new MusterError('INVALID_ARGUMENT', 'Last-Event-ID is not an event id this server issued', { field: 'Last-Event-ID' });
}

/** Whether a stream has something new to show for this transition. */
function shown(t: Transition): boolean {
  return t.kind === 'job' ? t.to === 'finished' : TERMINAL_STATES.includes(t.to);
}

/**
 * Live output and run endings of a job or a run, as a replayable stream: every
 * event carries the cursor after it, so a client that reconnects with
 * Last-Event-ID continues exactly where it stopped.
 */
export class JobEvents {
  constructor(
    private readonly jobs: JobStore,
    private readonly streamWakeup: StreamWakeup,
    transitions?: TransitionSink,
  ) {
    // Streams show ended runs and the end of a job: those wake them (a hint; they re-read).
    transitions?.subscribe((batch) => {
      if (batch.some(shown)) this.streamWakeup.notify();
    });
  }

  async *stream(actor: Actor, scope: EventScope, lastEventId: string | undefined, signal: AbortSignal): AsyncGenerator<StreamEvent> {
    requireRole(actor, 'viewer');
    const id = 'jobId' in scope ? scope.jobId : scope.runId;
    const what = 'jobId' in scope ? 'job' : 'run';
    if (!isId(id)) throw notFound(what, id);
    let cursor = decodeCursor(lastEventId);
    while (!signal.aborted) {
      const batch = await this.jobs.readEvents(actor.organizationId, scope, cursor, BATCH);
      if (!batch) throw notFound(what, id);
      const events = [
        ...batch.output.map((o) => ({ at: o.createdAt, kind: 'output' as const, o })),
        ...batch.ended.map((e) => ({ at: e.endedAt, kind: 'run' as const, e })),
      ].sort((a, b) => a.at.localeCompare(b.at));
      for (const ev of events) {
        if (ev.kind === 'output') {
          cursor = { ...cursor, output: [ev.o.createdAt, ev.o.runId, ev.o.seq] };
          yield {
            id: encodeCursor(cursor),
            event: 'output',
            data: { run_id: ev.o.runId, system_id: ev.o.systemId, hostname: ev.o.hostname, stream: ev.o.stream, data: ev.o.data },
          };
        } else {
          cursor = { ...cursor, ended: [ev.e.endedAt, ev.e.runId] };
          const e = ev.e;
          yield {
            id: encodeCursor(cursor),
            event: 'run',
            data: { run_id: e.runId, system_id: e.systemId, hostname: e.hostname, state: e.state, exit_code: e.exitCode, signal: e.signal, reason: e.reason },
          };
        }
      }
      const more = batch.output.length === BATCH || batch.ended.length === BATCH;
      if (batch.done && !more) {
        yield { event: 'end', data: { job_id: batch.jobId, ...('runId' in scope ? { run_id: scope.runId } : {}) } };
        return;
      }
      if (!more) await this.streamWakeup.wait(POLL_MS, signal);
    }
  }
}
