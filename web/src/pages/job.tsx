import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState } from 'react';
import { RUN_STATES, type Launched, type Run, type RunState, type RunWithOutput } from '../../../src/api/native/index.js';
import { api } from '../api.js';
import { ErrorNote, StateBadge, useAsync } from '../components.js';
import { patched, useLiveJob, useRunOutput, useRunPages } from '../job-live.js';
import { navigate } from '../router.js';
import { useCan } from '../session.js';

const ENDED: readonly RunState[] = ['succeeded', 'failed', 'timed_out', 'cancelled', 'undeliverable', 'lost'];
const FAILED: readonly RunState[] = ['failed', 'timed_out', 'undeliverable', 'lost'];
const ROW = 34;

export function JobPage({ id }: { id: string }) {
  const canRun = useCan('operator');
  const { job, error, live, version, reread } = useLiveJob(id);
  const [filter, setFilter] = useState<RunState | 'all'>('all');
  const [selected, setSelected] = useState<Run | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const pages = useRunPages(id, filter);
  const scroller = useRef<HTMLDivElement>(null);
  const rows = useVirtualizer({ count: pages.total ?? 0, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 10 });
  const inView = rows.getVirtualItems();
  const lastInView = inView.at(-1)?.index;
  const { want } = pages;
  useEffect(() => {
    if (lastInView !== undefined) want(lastInView);
  }, [lastInView, want]);
  if (error) return <ErrorNote error={error} />;
  if (!job) return <p className="loading">Loading…</p>;
  const running = !job.done;
  const failed = FAILED.some((s) => job.counts[s] > 0);
  const act = async (what: 'cancel' | 'retry') => {
    setActionError(null);
    try {
      if (what === 'cancel') {
        await api('POST', `/jobs/${id}/cancel`);
        reread();
      } else navigate(`/jobs/${(await api<Launched>('POST', `/jobs/${id}/retry`, {})).job.id}`);
    } catch (err) {
      setActionError(err);
    }
  };
  const picked = selected && patched(selected, live);
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
          all <strong data-testid="count-all">{job.total}</strong>
        </button>
        {RUN_STATES.map((s) => (
          <button key={s} aria-pressed={filter === s} onClick={() => setFilter(s)} className={`state-${s}`}>
            {s.replace('_', ' ')} <strong data-testid={`count-${s}`}>{job.counts[s]}</strong>
          </button>
        ))}
      </div>
      <div className="job-body">
        <div className="table runs" role="table" aria-label="Runs" aria-rowcount={(pages.total ?? 0) + 1}>
          <div role="row" className="tr th runs-row">
            <div role="columnheader">System</div>
            <div role="columnheader">State</div>
            <div role="columnheader">Exit</div>
            <div role="columnheader">Last line</div>
          </div>
          <div ref={scroller} className="tbody" role="rowgroup" data-version={version} data-testid="runs-rows" data-loaded={pages.runs.length}>
            <div style={{ height: rows.getTotalSize(), position: 'relative' }}>
              {inView.map((v) => {
                const style = { position: 'absolute', top: 0, left: 0, right: 0, height: ROW, transform: `translateY(${v.start}px)` } as const;
                const found = pages.runs[v.index];
                if (!found)
                  return (
                    <div role="row" aria-rowindex={v.index + 2} key={`row-${v.index}`} className="tr runs-row pending" style={style}>
                      <div role="cell">…</div>
                    </div>
                  );
                const r = patched(found, live);
                return (
                  <div
                    role="row"
                    aria-rowindex={v.index + 2}
                    key={r.id}
                    data-testid={`run-${r.system_id}`}
                    aria-selected={r.id === selected?.id}
                    className="tr runs-row"
                    style={style}
                  >
                    <div role="cell">
                      <button className="link" onClick={() => setSelected(r)}>
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
                      {live.last.get(r.id) ?? ''}
                    </div>
                  </div>
                );
              })}
            </div>
          </div>
        </div>
        {picked && <RunOutput run={picked} />}
      </div>
    </section>
  );
}

/** One run's stdout and stderr: its own stream's while it runs, or the stored output once it has ended (whichever holds more). */
function RunOutput({ run }: { run: Run }) {
  const ended = ENDED.includes(run.state);
  const [stored] = useAsync((signal) => api<RunWithOutput>('GET', `/runs/${run.id}`, undefined, signal), [run.id, ended]);
  const live = useRunOutput(run.id);
  const text = (stream: 'stdout' | 'stderr') => {
    const fromStream = live[stream];
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
