import { useCallback, useEffect, useRef, useState } from 'react';
import type { Job, JobRunList, OutputEvent, Run, RunEndEvent, RunState } from '../../src/api/native/index.js';
import { api, streamEvents } from './api.js';

/** Runs asked for at once; the list asks for the next page as its rows in view near the end of what it has. */
export const RUN_PAGE = 200;
/** The most asked for at once, when the reader jumps far past what is here (keyset pages cannot skip ahead). */
const RUN_PAGE_MAX = 1000;
/** Characters of a run's last line kept for its row: a megabyte-long line does not stay in the page. */
const LAST_LINE = 300;
/** Re-reads of the job (its counts) are at most this often while events arrive. */
const COUNTS_EVERY_MS = 500;

/**
 * What the event stream says of each run since the page opened: its state
 * (patched over the pages the server gave) and its last line of output. Only
 * that is kept per run (not its output), so an hour of streaming from 10,000
 * runs keeps the page's memory flat; the selected run's output has its own
 * stream (useRunOutput).
 */
export interface LiveRuns {
  patches: Map<string, Partial<Run>>;
  last: Map<string, string>;
}

/** A run as the stream left it: "running" only moves a run that has not got further (the replay brings ended runs' output too). */
export function patched(run: Run, live: LiveRuns): Run {
  const p = live.patches.get(run.id);
  if (!p || (p.state === 'running' && run.state !== 'pending' && run.state !== 'delivered')) return run;
  return { ...run, ...p };
}

/**
 * The job, re-read while it runs (every 2 s, and soon after stream events,
 * for its counts), and the stream's news of its runs, drawn once a frame:
 * many runs ending make a few renders, not one each.
 */
export function useLiveJob(id: string) {
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<unknown>(null);
  const live = useRef<LiveRuns>({ patches: new Map(), last: new Map() });
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const abort = new AbortController();
    const signal = abort.signal;
    live.current = { patches: new Map(), last: new Map() };
    const { patches, last } = live.current;
    let frame = 0;
    let countsTimer: ReturnType<typeof setTimeout> | undefined;
    const reread = () =>
      api<Job>('GET', `/jobs/${id}`, undefined, signal).then((j) => {
        setJob(j);
        return j;
      });
    const changed = () => {
      if (frame === 0)
        frame = requestAnimationFrame(() => {
          frame = 0;
          setVersion((v) => v + 1);
        });
      countsTimer ??= setTimeout(() => {
        countsTimer = undefined;
        reread().catch(() => {});
      }, COUNTS_EVERY_MS);
    };
    reread()
      .then(() =>
        streamEvents(
          `/jobs/${id}/events`,
          (e) => {
            if (e.event === 'output') {
              const o = e.data as OutputEvent;
              const lines = o.data.split('\n').filter((l) => l.trim() !== '');
              if (lines.length > 0) last.set(o.run_id, lines[lines.length - 1]!.slice(-LAST_LINE));
              if (!patches.has(o.run_id)) patches.set(o.run_id, { state: 'running' });
              changed();
            } else if (e.event === 'run') {
              const ended = e.data as RunEndEvent;
              patches.set(ended.run_id, { state: ended.state, exit_code: ended.exit_code, signal: ended.signal, reason: ended.reason });
              changed();
            } else if (e.event === 'end') void reread();
          },
          signal,
        ),
      )
      .catch((err: unknown) => !signal.aborted && setError(err));
    const poll = setInterval(() => {
      reread().then(
        (j) => j.done && clearInterval(poll),
        () => {},
      );
    }, 2000);
    return () => {
      abort.abort();
      clearInterval(poll);
      clearTimeout(countsTimer);
      cancelAnimationFrame(frame);
    };
  }, [id]);
  return { job, error, live: live.current, version, reread: () => void api<Job>('GET', `/jobs/${id}`).then(setJob, () => {}) };
}

interface Pages {
  runs: Run[];
  /** How many runs match the filter; null until the first page answers. */
  total: number | null;
  next: string | null;
  error: unknown;
}

/**
 * A job's runs in the filter, a page at a time from the server (by hostname):
 * `want(i)` asks for the next page when row `i` is near the end of what is
 * here (a bigger one when `i` is far past it), one request at a time. A new
 * filter starts over.
 */
export function useRunPages(jobId: string, state: RunState | 'all') {
  const [pages, setPages] = useState<Pages>({ runs: [], total: null, next: null, error: null });
  const busy = useRef(false);
  const controller = useRef<AbortController | null>(null);
  const fetchPage = useCallback(
    (cursor: string | null, limit = RUN_PAGE) => {
      busy.current = true;
      const q = new URLSearchParams({ limit: String(limit) });
      if (cursor) q.set('cursor', cursor);
      if (state !== 'all') q.set('state', state);
      const signal = controller.current!.signal;
      api<JobRunList>('GET', `/jobs/${jobId}/runs?${q}`, undefined, signal).then(
        (page) => {
          // An answer for a filter no longer shown is dropped.
          if (signal.aborted) return;
          busy.current = false;
          setPages((p) => ({ runs: cursor ? [...p.runs, ...page.items] : page.items, total: page.total, next: page.next_cursor, error: null }));
        },
        (error: unknown) => {
          if (signal.aborted) return;
          busy.current = false;
          setPages((p) => ({ ...p, error }));
        },
      );
    },
    [jobId, state],
  );
  useEffect(() => {
    controller.current?.abort();
    controller.current = new AbortController();
    setPages({ runs: [], total: null, next: null, error: null });
    fetchPage(null);
    return () => controller.current?.abort();
  }, [fetchPage]);
  const { next, runs } = pages;
  const want = useCallback(
    (index: number) => {
      if (busy.current || next === null || index < runs.length - RUN_PAGE / 4) return;
      fetchPage(next, Math.min(RUN_PAGE_MAX, Math.max(RUN_PAGE, index - runs.length + RUN_PAGE)));
    },
    [next, runs.length, fetchPage],
  );
  return { ...pages, want };
}

/** Characters of each stream kept for the selected run: the server's default cap (1 MiB). */
const OUTPUT_CAP = 1024 * 1024;

/** One run's output from its own event stream (replayed from its start, then live), each stream's tail kept. */
export function useRunOutput(runId: string): { stdout: string; stderr: string } {
  const [out, setOut] = useState({ stdout: '', stderr: '' });
  useEffect(() => {
    setOut({ stdout: '', stderr: '' });
    const abort = new AbortController();
    const acc = { stdout: '', stderr: '' };
    let frame = 0;
    streamEvents(
      `/runs/${runId}/events`,
      (e) => {
        if (e.event !== 'output') return;
        const o = e.data as OutputEvent;
        acc[o.stream] = (acc[o.stream] + o.data).slice(-OUTPUT_CAP);
        if (frame === 0)
          frame = requestAnimationFrame(() => {
            frame = 0;
            setOut({ ...acc });
          });
      },
      abort.signal,
    ).catch(() => {});
    return () => {
      abort.abort();
      cancelAnimationFrame(frame);
    };
  }, [runId]);
  return out;
}
