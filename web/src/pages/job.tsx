import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import {
  RUN_STATES,
  type Job,
  type Launched,
  type OutputEvent,
  type Run,
  type RunEndEvent,
  type RunList,
  type RunState,
  type RunWithOutput,
} from '../../../src/api/native/index.js';
import { api, streamEvents } from '../api.js';
import { ErrorNote, StateBadge, useAsync } from '../components.js';
import { navigate } from '../router.js';
import { useCan } from '../session.js';

/** Characters of each stream kept per run: the server's default cap (1 MiB). */
const OUTPUT_CAP = 1024 * 1024;
const ENDED: readonly RunState[] = ['succeeded', 'failed', 'timed_out', 'cancelled', 'undeliverable', 'lost'];
const FAILED: readonly RunState[] = ['failed', 'timed_out', 'undeliverable', 'lost'];

interface Output {
  stdout: string;
  stderr: string;
  /** The last line written, for the row. */
  last: string;
}

/**
 * The job's live state: its runs and their output from the event stream
 * (replayed from the start, then live), with counts moved as runs change
 * state, and the job re-read every 2 s while it runs for the transitions the
 * stream does not carry (delivered, running).
 */
function useLiveJob(id: string) {
  const [job, setJob] = useState<Job | null>(null);
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const output = useRef(new Map<string, Output>());
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const abort = new AbortController();
    const signal = abort.signal;
    output.current = new Map();
    let frame = 0;
    // Changes to runs, applied together once a frame: 10,000 runs ending make a few renders, not 10,000 passes over the list.
    const moved = new Map<string, Partial<Run>>();
    const flush = () => {
      frame = 0;
      if (moved.size > 0) {
        const batch = new Map(moved);
        moved.clear();
        // "running" only moves a run that has not got further (the replay brings ended runs' output too).
        const applies = (r: Run, m: Partial<Run>) => m.state !== 'running' || r.state === 'pending' || r.state === 'delivered';
        setRuns((rs) => rs && rs.map((r) => (batch.has(r.id) && applies(r, batch.get(r.id)!) ? { ...r, ...batch.get(r.id) } : r)));
      }
      setVersion((v) => v + 1);
    };
    const changed = () => {
      if (frame === 0) frame = requestAnimationFrame(flush);
    };
    const refresh = () =>
      Promise.all([api<Job>('GET', `/jobs/${id}`, undefined, signal), api<RunList>('GET', `/jobs/${id}/runs`, undefined, signal)]).then(([j, r]) => {
        setJob(j);
        setRuns(r.items);
        return j;
      });
    refresh()
      .then(() =>
        streamEvents(
          `/jobs/${id}/events`,
          (e) => {
            if (e.event === 'output') {
              const o = e.data as OutputEvent;
              const cur = output.current.get(o.run_id);
              const next = cur ?? { stdout: '', stderr: '', last: '' };
              // The tail only, as the server keeps it: an hour of output does not grow the page.
              next[o.stream] = (next[o.stream] + o.data).slice(-OUTPUT_CAP);
              const lines = o.data.split('\n').filter((l) => l.trim() !== '');
              if (lines.length > 0) next.last = lines[lines.length - 1]!;
              output.current.set(o.run_id, next);
              // A run's first output says it runs: one pass over the runs then, not one per chunk.
              if (!cur && !moved.has(o.run_id)) moved.set(o.run_id, { state: 'running' });
              changed();
            } else if (e.event === 'run') {
              const ended = e.data as RunEndEvent;
              moved.set(ended.run_id, { state: ended.state, exit_code: ended.exit_code, signal: ended.signal, reason: ended.reason });
              changed();
            } else if (e.event === 'end') void refresh();
          },
          signal,
        ),
      )
      .catch((err: unknown) => !signal.aborted && setError(err));
    const poll = setInterval(() => {
      void api<Job>('GET', `/jobs/${id}`, undefined, signal).then(
        (j) => {
          setJob(j);
          if (j.done) clearInterval(poll);
        },
        () => {},
      );
    }, 2000);
    return () => {
      abort.abort();
      clearInterval(poll);
      cancelAnimationFrame(frame);
    };
  }, [id]);
  return { job, runs, error, output: output.current, version };
}

const ROW = 34;

export function JobPage({ id }: { id: string }) {
  const canRun = useCan('operator');
  const { job, runs, error, output, version } = useLiveJob(id);
  const [filter, setFilter] = useState<RunState | 'all'>('all');
  const [selected, setSelected] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  // Counts from the runs as the stream moves them; the job's own once it is done (they agree then).
  const counts = useMemo(() => {
    const c = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
    for (const r of runs ?? []) c[r.state]++;
    return c;
  }, [runs]);
  const shown = useMemo(() => (runs ?? []).filter((r) => filter === 'all' || r.state === filter), [runs, filter]);
  const scroller = useRef<HTMLDivElement>(null);
  const rows = useVirtualizer({ count: shown.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 10 });
  if (error) return <ErrorNote error={error} />;
  if (!job || !runs) return <p className="loading">Loading…</p>;
  const running = !runs.every((r) => ENDED.includes(r.state));
  const failed = runs.some((r) => FAILED.includes(r.state));
  const act = async (what: 'cancel' | 'retry') => {
    setActionError(null);
    try {
      if (what === 'cancel') await api('POST', `/jobs/${id}/cancel`);
      else navigate(`/jobs/${(await api<Launched>('POST', `/jobs/${id}/retry`, {})).job.id}`);
    } catch (err) {
      setActionError(err);
    }
  };
  const picked = runs.find((r) => r.id === selected);
  return (
    <section className="job">
      <h1>
        Job <span className="mono small">{job.id}</span> <StateBadge state={running ? 'running' : job.status} />
      </h1>
      <pre className="code-view">{job.content}</pre>
      <p className="muted">
        {job.selector ? `selector ${job.selector} · ` : ''}
        {job.shell} · timeout {job.timeout_s} s · TTL {job.ttl_s} s{job.max_concurrency ? ` · at most ${job.max_concurrency} at once` : ''}
        {job.max_errors !== null ? ` · stop after ${job.max_errors} errors` : ''} · by {job.created_by}
        {job.stopped_reason ? ` · stopped: ${job.stopped_reason}` : ''}
      </p>
      {canRun && (
        <p className="actions">
          {running && (
            <button onClick={() => void act('cancel')} className="danger">
              Cancel job
            </button>
          )}
          {!running && failed && <button onClick={() => void act('retry')}>Retry failed</button>}
        </p>
      )}
      {actionError !== null && <ErrorNote error={actionError} />}
      <div className="counts" role="group" aria-label="Runs by state">
        <button aria-pressed={filter === 'all'} onClick={() => setFilter('all')}>
          all <strong data-testid="count-all">{runs.length}</strong>
        </button>
        {RUN_STATES.map((s) => (
          <button key={s} aria-pressed={filter === s} onClick={() => setFilter(s)} className={`state-${s}`}>
            {s.replace('_', ' ')} <strong data-testid={`count-${s}`}>{counts[s]}</strong>
          </button>
        ))}
      </div>
      <div className="job-body">
        <div className="table runs" role="table" aria-label="Runs">
          <div role="row" className="tr th runs-row">
            <div role="columnheader">System</div>
            <div role="columnheader">State</div>
            <div role="columnheader">Exit</div>
            <div role="columnheader">Last line</div>
          </div>
          <div ref={scroller} className="tbody" role="rowgroup" data-version={version}>
            <div style={{ height: rows.getTotalSize(), position: 'relative' }}>
              {rows.getVirtualItems().map((v) => {
                const r = shown[v.index]!;
                return (
                  <div
                    role="row"
                    key={r.id}
                    data-testid={`run-${r.system_id}`}
                    aria-selected={r.id === selected}
                    className="tr runs-row"
                    style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW, transform: `translateY(${v.start}px)` }}
                  >
                    <div role="cell">
                      <button className="link" onClick={() => setSelected(r.id)}>
                        {r.hostname}
                      </button>
                    </div>
                    <div role="cell">
                      <StateBadge state={r.state} />
                    </div>
                    <div role="cell" className="mono">
                      {r.exit_code ?? r.signal ?? ''}
                    </div>
                    <div role="cell" className="mono ellipsis" data-testid="last-line">
                      {output.get(r.id)?.last ?? ''}
                    </div>
                  </div>
                );
              })}
            </div>
          </div>
        </div>
        {picked && <RunOutput run={picked} live={output.get(picked.id)} />}
      </div>
    </section>
  );
}

/** One run's stdout and stderr: what the stream brought, or the stored output for a run that ended before the page opened. */
function RunOutput({ run, live }: { run: Run; live: Output | undefined }) {
  const [stored] = useAsync((signal) => api<RunWithOutput>('GET', `/runs/${run.id}`, undefined, signal), [run.id, ENDED.includes(run.state)]);
  const text = (stream: 'stdout' | 'stderr') => {
    const fromStream = live?.[stream] ?? '';
    const fromStore = stored.state === 'ready' ? stored.value[stream] : '';
    return fromStore.length > fromStream.length ? fromStore : fromStream;
  };
  return (
    <aside className="run-output" aria-label={`Output of ${run.hostname}`}>
      <h2>
        {run.hostname} <StateBadge state={run.state} />
        {run.reason ? <span className="muted small"> {run.reason}</span> : null}
      </h2>
      <h3>stdout</h3>
      <Tail text={text('stdout')} testId="stdout" className="output fixed" />
      <h3>stderr</h3>
      <Tail text={text('stderr')} testId="stderr" className="output fixed stderr small-pane" />
    </aside>
  );
}

/** A fixed-size output pane that follows new output while scrolled to the bottom (and stays put once the reader scrolls up). */
function Tail({ text, testId, className }: { text: string; testId: string; className: string }) {
  const ref = useRef<HTMLPreElement>(null);
  const following = useRef(true);
  useEffect(() => {
    const el = ref.current;
    if (el && following.current) el.scrollTop = el.scrollHeight;
  }, [text]);
  return (
    <pre
      ref={ref}
      className={className}
      data-testid={testId}
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        following.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
    >
      {text}
    </pre>
  );
}
