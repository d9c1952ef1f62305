import { useEffect, useState, type FormEvent } from 'react';
import type { AuditEvent, AuditList, AuditQuery } from '../../../src/api/native/index.js';
import { api, apiBlob } from '../api.js';
import { ErrorNote, Thead } from '../components.js';
import { useCan } from '../session.js';

/** The filters the page keeps in its URL, by AuditQuery's names. */
const FILTERS = ['actor', 'action', 'target_type', 'target_id', 'since', 'until'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;
/** Events asked for at once. */
const PAGE = 100;

function filtersFrom(query: URLSearchParams): Filters {
  return Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ''])) as Filters;
}

/** The query a set of filters asks (empty ones left out): AuditQuery's fields only. */
function auditQuery(f: Filters, cursor?: string): URLSearchParams {
  const q: AuditQuery = { limit: String(PAGE) };
  for (const name of FILTERS) if (f[name].trim() !== '') q[name] = f[name].trim();
  if (cursor) q.cursor = cursor;
  return new URLSearchParams(q as Record<string, string>);
}

/** A `datetime-local` value (the reader's time) as an ISO instant, and back. */
function toInstant(local: string): string {
  return local === '' ? '' : new Date(local).toISOString();
}
function toLocal(instant: string): string {
  if (instant === '' || Number.isNaN(Date.parse(instant))) return '';
  const d = new Date(instant);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

interface Loaded {
  items: AuditEvent[];
  next: string | null;
}

/** The audit feed (admins only): newest first, filtered by what the URL says, a page at a time; the whole feed as JSON lines. */
export function AuditPage() {
  const isAdmin = useCan('admin');
  const [applied, setApplied] = useState(() => filtersFrom(new URLSearchParams(location.search)));
  const [form, setForm] = useState(applied);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const load = async (cursor: string | undefined, signal?: AbortSignal) => {
    setBusy(true);
    setError(null);
    try {
      const page = await api<AuditList>('GET', `/audit?${auditQuery(applied, cursor)}`, undefined, signal);
      setLoaded((l) => ({ items: cursor && l ? [...l.items, ...page.items] : page.items, next: page.next_cursor }));
    } catch (err) {
      if (!signal?.aborted) setError(err);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    if (!isAdmin) return;
    const abort = new AbortController();
    setLoaded(null);
    void load(undefined, abort.signal);
    return () => abort.abort();
  }, [applied, isAdmin]);
  if (!isAdmin) return <p className="notice">The audit feed is for admin keys; this key is not one.</p>;
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const name of FILTERS) if (form[name].trim() !== '') q.set(name, form[name].trim());
    history.replaceState(null, '', `${location.pathname}${q.size > 0 ? `?${q}` : ''}`);
    setApplied({ ...form });
  };
  const field = (name: keyof Filters, label: string, placeholder = '') => (
    <div className="field">
      <label htmlFor={`audit-${name}`}>{label}</label>
      <input id={`audit-${name}`} value={form[name]} placeholder={placeholder} onChange={(e) => setForm((f) => ({ ...f, [name]: e.target.value }))} />
    </div>
  );
  const time = (name: 'since' | 'until', label: string) => (
    <div className="field">
      <label htmlFor={`audit-${name}`}>{label}</label>
      <input
        id={`audit-${name}`}
        type="datetime-local"
        value={toLocal(form[name])}
        onChange={(e) => setForm((f) => ({ ...f, [name]: toInstant(e.target.value) }))}
      />
    </div>
  );
  return (
    <section>
      <h1>Audit</h1>
      <form onSubmit={apply} className="audit-filters" aria-label="Filter the audit feed">
        <div className="grid4">
          {field('actor', 'Actor', 'key:…')}
          {field('action', 'Action (or prefix)', 'job.')}
          {field('target_type', 'Target type', 'job')}
          {field('target_id', 'Target id')}
          {time('since', 'Since')}
          {time('until', 'Until')}
        </div>
        <p className="actions">
          <button type="submit">Apply</button>
          <ExportButton />
        </p>
      </form>
      {error !== null && <ErrorNote error={error} />}
      <table className="simple" aria-label="Audit events">
        <Thead columns={['Time', 'Actor', 'Action', 'Target', 'Source IP', 'Request id']} />
        <tbody>
          {(loaded?.items ?? []).map((e) => (
            <tr key={e.id} data-testid="audit-event">
              <td>
                <time dateTime={e.at}>{e.at}</time>
              </td>
              <td className="mono">{e.actor}</td>
              <td className="mono">{e.action}</td>
              <td className="mono">
                {e.target_type} {e.target_id}
              </td>
              <td className="mono">{e.source_ip ?? ''}</td>
              <td className="mono small">{e.request_id ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {loaded && loaded.items.length === 0 && <p className="muted">No events match.</p>}
      {loaded?.next && (
        <p className="actions">
          <button disabled={busy} onClick={() => void load(loaded.next!)}>
            Load more
          </button>
        </p>
      )}
    </section>
  );
}

/** Downloads the feed as JSON lines: fetched with the key in its header (never in a URL), then saved from memory. */
function ExportButton() {
  const [error, setError] = useState<unknown>(null);
  const download = async () => {
    setError(null);
    try {
      const url = URL.createObjectURL(await apiBlob('/audit/export'));
      const a = document.createElement('a');
      a.href = url;
      a.download = `muster-audit-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.jsonl`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <button type="button" onClick={() => void download()}>
        Export (JSON lines)
      </button>
      {error !== null && <ErrorNote error={error} />}
    </>
  );
}
