import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { GroupList, IdList, System, SystemList } from '../../../src/api/native/index.js';
import { api, ApiError } from '../api.js';
import { Ago, ErrorNote, Online, SelectorField, useAsync, useDebounced } from '../components.js';
import { Link, navigate } from '../router.js';

type SortKey = 'display_name' | 'hostname' | 'connected' | 'last_contact' | 'os';
const COLUMNS: Array<[SortKey | null, string]> = [
  ['display_name', 'Name'],
  ['hostname', 'Hostname'],
  ['connected', 'State'],
  ['last_contact', 'Last contact'],
  ['os', 'OS'],
  [null, 'Tags'],
  [null, 'Groups'],
];

/** Groups asked at once at most, for the groups column (a fleet has tens of groups, not thousands). */
const GROUPS_SHOWN = 200;

/** Each system's group names, from the groups and their members. */
async function groupsBySystem(signal: AbortSignal): Promise<Map<string, string[]>> {
  const groups = (await api<GroupList>('GET', '/groups', undefined, signal)).items.slice(0, GROUPS_SHOWN);
  const members = await Promise.all(groups.map((g) => api<IdList>('GET', `/groups/${encodeURIComponent(g.id)}/members`, undefined, signal)));
  const out = new Map<string, string[]>();
  groups.forEach((g, i) => {
    for (const id of members[i]!.items) out.set(id, [...(out.get(id) ?? []), g.name]);
  });
  return out;
}

const ROW = 36;
/** Systems asked for at once; the table asks for the pages its rows in view fall in. */
const PAGE = 200;

interface Pages {
  /** How many systems match; null until the first page answers. */
  total: number | null;
  pages: Map<number, System[]>;
  error: ApiError | Error | null;
}

/**
 * The systems a selector matches, sorted by the server, a page at a time:
 * `want(i)` asks for the page row `i` falls in (once), `row(i)` is that row
 * when its page is here. A new selector or sort starts over.
 */
function useSystemPages(selector: string, sort: { key: SortKey; dir: 1 | -1 }) {
  const settled = useDebounced(selector.trim(), 250);
  const [state, setState] = useState<Pages>({ total: null, pages: new Map(), error: null });
  const asked = useRef(new Set<number>());
  const query = useMemo(() => {
    const q = new URLSearchParams({ limit: String(PAGE), sort: `${sort.dir === -1 ? '-' : ''}${sort.key}` });
    if (settled) q.set('select', settled);
    return q;
  }, [settled, sort]);
  const controller = useRef<AbortController | null>(null);
  const fetchPage = useCallback(
    (index: number) => {
      if (asked.current.has(index)) return;
      asked.current.add(index);
      const q = new URLSearchParams(query);
      q.set('cursor', String(index * PAGE));
      api<SystemList>('GET', `/systems?${q}`, undefined, controller.current!.signal).then(
        (page) => setState((st) => ({ total: page.total, pages: new Map(st.pages).set(index, page.items), error: null })),
        (error: unknown) => {
          if ((error as Error).name === 'AbortError') return;
          asked.current.delete(index);
          setState((st) => ({ ...st, error: error as Error }));
        },
      );
    },
    [query],
  );
  useEffect(() => {
    controller.current?.abort();
    controller.current = new AbortController();
    asked.current = new Set();
    setState({ total: null, pages: new Map(), error: null });
    fetchPage(0);
    return () => controller.current?.abort();
  }, [fetchPage]);
  return {
    ...state,
    want: (i: number) => fetchPage(Math.floor(i / PAGE)),
    row: (i: number): System | undefined => state.pages.get(Math.floor(i / PAGE))?.[i % PAGE],
  };
}

/** The fleet: the systems the selector matches, sorted and paged by the server, in a virtualised table (only the rows in view are in the page, and only their pages are fetched). */
export function SystemsPage() {
  const [selector, setSelector] = useState(() => new URLSearchParams(location.search).get('select') ?? '');
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'display_name', dir: 1 });
  const systems = useSystemPages(selector, sort);
  const [groups] = useAsync(groupsBySystem, []);
  const total = systems.total ?? 0;
  const scroller = useRef<HTMLDivElement>(null);
  const rows = useVirtualizer({ count: total, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 12 });
  const inView = rows.getVirtualItems();
  const first = inView[0]?.index;
  const last = inView.at(-1)?.index;
  const { want } = systems;
  useEffect(() => {
    if (first === undefined || last === undefined) return;
    want(first);
    want(last);
  }, [first, last, want]);
  const error = systems.error instanceof ApiError && systems.error.status === 400 ? systems.error.message : null;
  const count = systems.total === null ? 'Loading…' : `${total.toLocaleString()} system${total === 1 ? '' : 's'}`;
  return (
    <section className="page-fill">
      <h1>Systems</h1>
      <SelectorField
        id="systems-selector"
        label="Filter with a selector"
        value={selector}
        onChange={setSelector}
        error={error}
        count={error ? undefined : count}
      />
      <div className="table" role="table" aria-label="Systems" aria-rowcount={total + 1}>
        <div role="rowgroup">
          <div role="row" className="tr th systems-row">
            {COLUMNS.map(([key, label]) => (
              <div role="columnheader" key={label} aria-sort={key && sort.key === key ? (sort.dir === 1 ? 'ascending' : 'descending') : undefined}>
                {key ? (
                  <button className="link" onClick={() => setSort((s) => ({ key, dir: s.key === key ? (-s.dir as 1 | -1) : 1 }))}>
                    {label}
                    {sort.key === key ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}
                  </button>
                ) : (
                  label
                )}
              </div>
            ))}
          </div>
        </div>
        <div ref={scroller} className="tbody" role="rowgroup" data-testid="systems-rows">
          <div style={{ height: rows.getTotalSize(), position: 'relative' }}>
            {inView.map((v) => {
              const s = systems.row(v.index);
              if (!s)
                return (
                  <div
                    role="row"
                    aria-rowindex={v.index + 2}
                    key={`row-${v.index}`}
                    className="tr systems-row pending"
                    style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW, transform: `translateY(${v.start}px)` }}
                  >
                    <div role="cell">…</div>
                  </div>
                );
              return (
                <div
                  role="row"
                  aria-rowindex={v.index + 2}
                  key={s.id}
                  className="tr systems-row"
                  style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW, transform: `translateY(${v.start}px)` }}
                  onDoubleClick={() => navigate(`/systems/${s.id}`)}
                >
                  <div role="cell">
                    <Link to={`/systems/${s.id}`}>{s.display_name || s.hostname}</Link>
                  </div>
                  <div role="cell" className="mono">
                    {s.hostname}
                  </div>
                  <div role="cell">
                    <Online connected={s.connected} />
                  </div>
                  <div role="cell">
                    <Ago at={s.last_contact} />
                  </div>
                  <div role="cell">{s.os}</div>
                  <div role="cell" className="tags">
                    {s.tags.map((t) => (
                      <span key={t} className="tag">
                        {t}
                      </span>
                    ))}
                  </div>
                  <div role="cell">{groups.state === 'ready' ? (groups.value.get(s.id) ?? []).join(', ') : ''}</div>
                </div>
              );
            })}
          </div>
        </div>
      </div>
      {systems.error && !error && <ErrorNote error={systems.error} />}
    </section>
  );
}
