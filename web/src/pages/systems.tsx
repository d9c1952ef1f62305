import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import type { GroupList, IdList, System } from '../../../src/api/native/index.js';
import { api } from '../api.js';
import { Ago, ErrorNote, Online, SelectorField, useAsync, useSystems } from '../components.js';
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

function compare(a: System, b: System, key: SortKey): number {
  const x = a[key] ?? '';
  const y = b[key] ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

const ROW = 36;

/** The fleet: every system the selector matches, sortable, in a virtualised table (only the rows in view are in the page). */
export function SystemsPage() {
  const [selector, setSelector] = useState(() => new URLSearchParams(location.search).get('select') ?? '');
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'display_name', dir: 1 });
  const systems = useSystems(selector);
  const [groups] = useAsync(groupsBySystem, []);
  const items = systems.state === 'ready' ? systems.value.items : null;
  const sorted = useMemo(() => (items ? [...items].sort((a, b) => compare(a, b, sort.key) * sort.dir) : []), [items, sort]);
  const scroller = useRef<HTMLDivElement>(null);
  const rows = useVirtualizer({ count: sorted.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 12 });
  const error = systems.state === 'error' ? systems.error.message : null;
  const count = items ? `${items.length.toLocaleString()} system${items.length === 1 ? '' : 's'}` : 'Loading…';
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
      <div className="table" role="table" aria-label="Systems" aria-rowcount={sorted.length + 1}>
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
            {rows.getVirtualItems().map((v) => {
              const s = sorted[v.index]!;
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
      {systems.state === 'error' && !error && <ErrorNote error={systems.error} />}
    </section>
  );
}
