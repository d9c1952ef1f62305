import { lazy, Suspense, useEffect, useRef, useState, type FormEvent } from 'react';
import type { OpenSessionBody, Session, SessionCandidate, SessionCriteria, SessionList } from '../../../src/api/native/index.js';
import { api, ApiError, apiText } from '../api.js';
import { Ago, ErrorNote, Online, StateBadge, Thead, useAsync } from '../components.js';
import { Link, navigate } from '../router.js';
import { useCan } from '../session.js';

// xterm.js is loaded with the first terminal, not with every page.
const LiveTerminal = lazy(() => import('../terminal.js').then((m) => ({ default: m.LiveTerminal })));
const Playback = lazy(() => import('../terminal.js').then((m) => ({ default: m.Playback })));

const CRITERIA: Array<[keyof SessionCriteria, string]> = [
  ['hostname', 'Hostname'],
  ['tag', 'Tag'],
  ['comments', 'Comments'],
  ['private_ip', 'Private IP'],
  ['public_ip', 'Public IP'],
  ['search', 'Any field'],
];

/** The candidates of a 409, when it carries them. */
function candidatesOf(err: unknown): SessionCandidate[] | undefined {
  if (!(err instanceof ApiError) || err.status !== 409) return undefined;
  return (err.body as { error?: { candidates?: SessionCandidate[] } } | undefined)?.error?.candidates;
}

/** The BeyondTrust face's web_console redirect: its ticket and the criteria it stands for. */
function fromConsoleScript(query: URLSearchParams): { ticket: string; shown: string } | undefined {
  const ticket = query.get('muster.ticket');
  if (!ticket) return undefined;
  const shown = [...query]
    .filter(([k]) => k !== 'muster.ticket')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return { ticket, shown };
}

/** Open a shell by criteria (or on one system), with a chooser when several match; the sessions so far. */
export function SessionsPage() {
  const canOpen = useCan('operator');
  const query = new URLSearchParams(location.search);
  const script = fromConsoleScript(query);
  const [criteria, setCriteria] = useState<SessionCriteria>({});
  const [runAs, setRunAs] = useState('');
  const [candidates, setCandidates] = useState<{ body: OpenSessionBody; list: SessionCandidate[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [sessions] = useAsync((signal) => api<SessionList>('GET', '/sessions?limit=100', undefined, signal), []);
  const chooser = useRef<HTMLHeadingElement>(null);

  const open = async (body: OpenSessionBody) => {
    setBusy(true);
    setError(null);
    try {
      const s = await api<Session>('POST', '/sessions', { ...body, cols: 120, rows: 32 });
      navigate(`/sessions/${s.id}`);
    } catch (err) {
      const list = candidatesOf(err);
      if (list && list.length > 0) {
        setCandidates({ body, list });
        requestAnimationFrame(() => chooser.current?.focus());
      } else setError(err);
    } finally {
      setBusy(false);
    }
  };
  const systemId = query.get('system');
  useEffect(() => {
    if (script && canOpen) void open({ ticket: script.ticket });
    // The ticket is single-use: open once, on arrival.
  }, []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const given = Object.fromEntries(Object.entries(criteria).filter(([, v]) => typeof v === 'string' && v.trim() !== '')) as SessionCriteria;
    void open({ ...(systemId ? { system_id: systemId } : { criteria: given }), ...(runAs.trim() ? { run_as: runAs.trim() } : {}) });
  };
  return (
    <section>
      <h1>Shells</h1>
      {!canOpen && <p className="notice">This key is a viewer: it can see sessions and their recordings but not open shells.</p>}
      {script && <p className="notice">Opening the session a console script asked for ({script.shown})…</p>}
      {canOpen && !script && (
        <form onSubmit={submit} className="open-form" aria-label="Open a shell">
          {systemId ? (
            <p>
              On system <span className="mono">{systemId}</span> · <Link to="/sessions">by criteria instead</Link>
            </p>
          ) : (
            <fieldset className="grid3">
              <legend>Criteria (partial, case-insensitive; all must match)</legend>
              {CRITERIA.map(([key, label]) => (
                <div className="field" key={key}>
                  <label htmlFor={`crit-${key}`}>{label}</label>
                  <input id={`crit-${key}`} value={criteria[key] ?? ''} onChange={(e) => setCriteria((c) => ({ ...c, [key]: e.target.value }))} />
                </div>
              ))}
            </fieldset>
          )}
          <div className="field inline">
            <label htmlFor="run-as">Run as</label>
            <input id="run-as" placeholder="the agent's user" value={runAs} onChange={(e) => setRunAs(e.target.value)} />
          </div>
          <button type="submit" disabled={busy}>
            Open shell
          </button>
        </form>
      )}
      {error !== null && <ErrorNote error={error} />}
      {candidates && (
        <div className="chooser" role="region" aria-labelledby="chooser-title">
          <h2 id="chooser-title" ref={chooser} tabIndex={-1}>
            {candidates.list.length} systems match: choose one
          </h2>
          <ul className="plain">
            {candidates.list.map((c) => (
              <li key={c.id}>
                <button disabled={busy} onClick={() => void open({ ...candidates.body, system_id: c.id })}>
                  {c.name || c.hostname}
                </button>{' '}
                <span className="mono">{c.hostname}</span> <Online connected={c.connected} /> {c.tags.join(', ')} {c.private_ips.join(', ')} {c.comments}
              </li>
            ))}
          </ul>
        </div>
      )}
      <h2>Sessions</h2>
      {sessions.state === 'error' && <ErrorNote error={sessions.error} />}
      {sessions.state === 'ready' && (
        <table className="simple">
          <Thead columns={['Opened', 'System', 'State', 'By', 'Ended']} />
          <tbody>
            {sessions.value.items.map((s) => (
              <tr key={s.id}>
                <td>
                  <Link to={`/sessions/${s.id}`}>
                    <Ago at={s.created_at} />
                  </Link>
                </td>
                <td className="mono">
                  <Link to={`/systems/${s.system_id}`}>{s.system_id}</Link>
                </td>
                <td>
                  <StateBadge state={s.state} />
                </td>
                <td>{s.opened_by}</td>
                <td>{s.end_reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** A session: its live terminal while it is open (for who may attach), its recording once it has ended. */
export function SessionPage({ id }: { id: string }) {
  const canAttach = useCan('operator');
  const [session, reload] = useAsync((signal) => api<Session>('GET', `/sessions/${id}`, undefined, signal), [id]);
  const [cast, setCast] = useState<string | null>(null);
  const ended = session.state === 'ready' && session.value.state === 'ended';
  useEffect(() => {
    if (ended) apiText(`/sessions/${id}/recording`).then(setCast, () => setCast(''));
  }, [ended, id]);
  if (session.state === 'loading') return <p className="loading">Loading…</p>;
  if (session.state === 'error') return <ErrorNote error={session.error} />;
  const s = session.value;
  return (
    <section className="page-fill">
      <h1>
        Shell on <Link to={`/systems/${s.system_id}`}>{s.system_id}</Link> <StateBadge state={s.state} />
      </h1>
      {s.state !== 'ended' && canAttach && (
        <>
          <Suspense fallback={<p className="loading">Loading the terminal…</p>}>
            <LiveTerminal id={id} onEnded={reload} />
          </Suspense>
          <p className="actions">
            <button className="danger" onClick={() => void api('POST', `/sessions/${id}/end`).then(reload)}>
              End session
            </button>
          </p>
        </>
      )}
      {ended && (
        <>
          <p className="muted">
            Ended {s.end_reason}
            {s.exit_code !== null ? ` (exit ${s.exit_code})` : ''} · recording:
          </p>
          {cast === null ? (
            <p className="loading">Loading…</p>
          ) : cast === '' ? (
            <p>No recording.</p>
          ) : (
            <Suspense fallback={<p className="loading">Loading the player…</p>}>
              <Playback cast={cast} />
            </Suspense>
          )}
        </>
      )}
    </section>
  );
}
