import { useEffect, useState, type FormEvent } from 'react';
import type { Role, Whoami } from '../../src/api/native/index.js';
import { storedKey, storeKey, whenUnauthenticated, whoami } from './api.js';
import { AuditPage } from './pages/audit.js';
import { IngestPage } from './pages/ingest.js';
import { JobPage } from './pages/job.js';
import { JobsPage } from './pages/jobs.js';
import { RunPage } from './pages/run.js';
import { ScriptJobsPage } from './pages/script-jobs.js';
import { ScriptsPage } from './pages/scripts.js';
import { SessionPage, SessionsPage } from './pages/sessions.js';
import { SystemPage } from './pages/system.js';
import { SystemsPage } from './pages/systems.js';
import { Link, match, useRoute } from './router.js';
import { can, SessionContext } from './session.js';

/** The sections, and the role each needs to be offered (the audit feed is an admin's). */
const NAV: Array<[string, string, Role]> = [
  ['/systems', 'Systems', 'viewer'],
  ['/run', 'Run', 'viewer'],
  ['/jobs', 'Jobs', 'viewer'],
  ['/script-jobs', 'Script jobs', 'viewer'],
  ['/scripts', 'Scripts', 'viewer'],
  ['/sessions', 'Shells', 'viewer'],
  ['/ingest', 'Ingest', 'viewer'],
  ['/audit', 'Audit', 'admin'],
];

function Login({ onLogin }: { onLogin: (who: Whoami, key: string) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await whoami(key.trim()), key.trim());
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">muster</h1>
        <label htmlFor="api-key">API key</label>
        <input id="api-key" type="password" autoComplete="off" autoFocus value={key} onChange={(e) => setKey(e.target.value)} required />
        <p className="hint">Kept in this tab only (session storage); it is sent in the Authorization header, never in a URL.</p>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || key.trim() === ''}>
          Log in
        </button>
      </form>
    </main>
  );
}

function Page({ path }: { path: string }) {
  let m: Record<string, string> | undefined;
  if (path === '/systems') return <SystemsPage />;
  if ((m = match('/systems/:id', path))) return <SystemPage id={m.id!} />;
  if (path === '/run') return <RunPage />;
  if (path === '/jobs') return <JobsPage />;
  if ((m = match('/jobs/:id', path))) return <JobPage key={m.id} id={m.id!} />;
  if (path === '/scripts') return <ScriptsPage />;
  if (path === '/sessions' || path === '/sessions/new') return <SessionsPage />;
  if ((m = match('/sessions/:id', path))) return <SessionPage id={m.id!} />;
  if (path === '/ingest') return <IngestPage />;
  if (path === '/script-jobs') return <ScriptJobsPage />;
  if (path === '/audit') return <AuditPage />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        Nothing at {path}. <Link to="/systems">Systems</Link>
      </p>
    </section>
  );
}

export function App() {
  const { path } = useRoute();
  const [who, setWho] = useState<Whoami | null>(null);
  const [checking, setChecking] = useState(storedKey() !== null);
  useEffect(() => {
    whenUnauthenticated(() => {
      storeKey(null);
      setWho(null);
    });
    const key = storedKey();
    if (!key) return;
    whoami(key)
      .then(setWho, () => storeKey(null))
      .finally(() => setChecking(false));
  }, []);
  if (checking) return <p className="loading">Loading…</p>;
  if (!who)
    return (
      <Login
        onLogin={(w, key) => {
          storeKey(key);
          setWho(w);
        }}
      />
    );
  const section = `/${path.split('/')[1]}`;
  return (
    <SessionContext.Provider value={who}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">muster</span>
        <nav aria-label="Sections">
          {NAV.filter(([, , role]) => can(who, role)).map(([to, label]) => (
            <Link key={to} to={to} aria-current={section === to ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <span className="who" title={`key ${who.key_id}`}>
          {who.organization_name} · <span data-testid="role">{who.role}</span>
        </span>
        <button
          className="link"
          onClick={() => {
            storeKey(null);
            setWho(null);
          }}
        >
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={path} />
      </main>
    </SessionContext.Provider>
  );
}
