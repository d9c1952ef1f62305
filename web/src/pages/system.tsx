import type { GroupList, RunList, SessionList, System } from '../../../src/api/native/index.js';
import { api } from '../api.js';
import { Ago, ErrorNote, Online, StateBadge, useAsync } from '../components.js';
import { Link } from '../router.js';
import { useCan } from '../session.js';

/** Facts as a tree of <details>, each level closed but the first. */
function FactTree({ value, name, depth = 0 }: { value: unknown; name: string; depth?: number }) {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
    return (
      <details open={depth === 0}>
        <summary>
          <span className="fact-key">{name}</span> <span className="muted">{Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}</span>
        </summary>
        <ul className="facts">
          {entries.map(([k, v]) => (
            <li key={k}>
              <FactTree name={k} value={v} depth={depth + 1} />
            </li>
          ))}
        </ul>
      </details>
    );
  }
  return (
    <span>
      <span className="fact-key">{name}</span>: <span className="mono">{JSON.stringify(value)}</span>
    </span>
  );
}

export function SystemPage({ id }: { id: string }) {
  const canRun = useCan('operator');
  const [system] = useAsync((signal) => api<System>('GET', `/systems/${encodeURIComponent(id)}`, undefined, signal), [id]);
  const [groups] = useAsync((signal) => api<GroupList>('GET', `/systems/${encodeURIComponent(id)}/groups`, undefined, signal), [id]);
  const [sessions] = useAsync((signal) => api<SessionList>('GET', '/sessions?limit=200', undefined, signal), [id]);
  const [runs] = useAsync((signal) => api<RunList>('GET', `/systems/${encodeURIComponent(id)}/runs?limit=20`, undefined, signal), [id]);
  if (system.state === 'loading') return <p className="loading">Loading…</p>;
  if (system.state === 'error') return <ErrorNote error={system.error} />;
  const s = system.value;
  return (
    <section>
      <h1>
        {s.display_name || s.hostname} <Online connected={s.connected} />
      </h1>
      {canRun && (
        <p className="actions">
          <Link className="button" to={`/run?select=${encodeURIComponent(`id:${s.id}`)}`}>
            Run on this system
          </Link>
          <Link className="button" to={`/sessions?system=${encodeURIComponent(s.id)}`}>
            Open a shell
          </Link>
        </p>
      )}
      <dl className="props">
        <dt>Id</dt>
        <dd className="mono">{s.id}</dd>
        <dt>Hostname</dt>
        <dd className="mono">{s.hostname}</dd>
        <dt>OS</dt>
        <dd>
          {s.os} {s.os_release} ({s.arch})
        </dd>
        <dt>Addresses</dt>
        <dd className="mono">{[...s.ip_addresses, ...(s.public_ip ? [s.public_ip] : [])].join(', ') || '—'}</dd>
        <dt>Last contact</dt>
        <dd>
          <Ago at={s.last_contact} />
        </dd>
        <dt>Agent</dt>
        <dd>{s.agent_version}</dd>
        <dt>Tags</dt>
        <dd className="tags">
          {s.tags.map((t) => (
            <span key={t} className="tag">
              {t}
            </span>
          ))}
        </dd>
        <dt>Groups</dt>
        <dd>{groups.state === 'ready' ? groups.value.items.map((g) => g.name).join(', ') || '—' : groups.state === 'error' ? groups.error.message : '…'}</dd>
        {s.description && (
          <>
            <dt>Comments</dt>
            <dd>{s.description}</dd>
          </>
        )}
      </dl>
      <h2>Facts</h2>
      <div className="fact-tree">
        <FactTree name="facts" value={s.facts} />
      </div>
      <h2>Recent runs</h2>
      {runs.state === 'error' && <ErrorNote error={runs.error} />}
      {runs.state === 'ready' &&
        (runs.value.items.length === 0 ? (
          <p className="muted">No runs yet.</p>
        ) : (
          <ul className="plain" aria-label="Recent runs">
            {runs.value.items.map((r) => (
              <li key={r.id}>
                <Link to={`/jobs/${r.job_id}`}>
                  <Ago at={r.created_at} />
                </Link>{' '}
                <StateBadge state={r.state} />
                {r.exit_code !== null && <span className="muted"> exit {r.exit_code}</span>}
              </li>
            ))}
          </ul>
        ))}
      <h2>Sessions</h2>
      {sessions.state === 'ready' && (
        <ul className="plain">
          {sessions.value.items
            .filter((x) => x.system_id === s.id)
            .slice(0, 20)
            .map((x) => (
              <li key={x.id}>
                <Link to={`/sessions/${x.id}`}>{x.created_at}</Link> <StateBadge state={x.state} /> {x.opened_by}
              </li>
            ))}
        </ul>
      )}
    </section>
  );
}
