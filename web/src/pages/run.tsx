import { useState, type FormEvent } from 'react';
import { SHELLS, type CommandList, type Launched, type LaunchBody, type ScriptList, type Shell } from '../../../src/api/native/index.js';
import { api } from '../api.js';
import { ErrorNote, SelectorField, useAsync, useSystems } from '../components.js';
import { CodeEditor } from '../editor.js';
import { navigate } from '../router.js';
import { useCan } from '../session.js';

type Source = 'type' | 'script' | 'command';

function numberOrUndefined(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}

/** Count or percentage ("10%"), as the launch takes it. */
function rate(text: string): number | string | undefined {
  const t = text.trim();
  return t === '' ? undefined : t.endsWith('%') ? t : Number(t);
}

/** Launch a job: typed content, a saved script or a command, on the systems a selector matches. */
export function RunPage() {
  const canRun = useCan('operator');
  const query = new URLSearchParams(location.search);
  const [source, setSource] = useState<Source>('type');
  const [content, setContent] = useState('#!/bin/sh\nhostname\nuptime\n');
  const [shell, setShell] = useState<Shell>('sh');
  const [saved, setSaved] = useState('');
  const [selector, setSelector] = useState(query.get('select') ?? '');
  const [concurrency, setConcurrency] = useState('');
  const [maxErrors, setMaxErrors] = useState('');
  const [timeout, setTimeoutS] = useState('');
  const [ttl, setTtl] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [scripts] = useAsync((signal) => api<ScriptList>('GET', '/scripts', undefined, signal), []);
  const [commands] = useAsync((signal) => api<CommandList>('GET', '/commands', undefined, signal), []);
  const matches = useSystems(selector, selector.trim() !== '');
  const selectorError = selector.trim() !== '' && matches.state === 'error' ? matches.error.message : null;
  const count =
    selector.trim() === ''
      ? 'Give a selector (* for every system)'
      : matches.state === 'ready'
        ? `${matches.value.items.length.toLocaleString()} matching system${matches.value.items.length === 1 ? '' : 's'} (${matches.value.items.filter((s) => s.connected).length} online)`
        : 'Counting…';

  const launch = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: LaunchBody = {
        targets: { selector: selector.trim() },
        ...(numberOrUndefined(timeout) !== undefined ? { timeout_s: numberOrUndefined(timeout)! } : {}),
        ...(numberOrUndefined(ttl) !== undefined ? { ttl_s: numberOrUndefined(ttl)! } : {}),
        ...(rate(concurrency) !== undefined ? { max_concurrency: rate(concurrency)! } : {}),
        ...(rate(maxErrors) !== undefined ? { max_errors: rate(maxErrors)! } : {}),
      };
      if (source === 'type') Object.assign(body, { content, shell });
      else body.script = saved;
      const launched = await api<Launched>('POST', '/jobs', body);
      navigate(`/jobs/${launched.job.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const choices = source === 'script' ? (scripts.state === 'ready' ? scripts.value.items : []) : commands.state === 'ready' ? commands.value.items : [];
  const chosen = choices.find((c) => c.id === saved);
  return (
    <section>
      <h1>Run</h1>
      {!canRun && <p className="notice">This key is a viewer: it can look at jobs but not launch them.</p>}
      <form onSubmit={launch} className="run-form">
        <fieldset className="segmented">
          <legend>What to run</legend>
          {(
            [
              ['type', 'Type a script'],
              ['script', 'Saved script'],
              ['command', 'Saved command'],
            ] as const
          ).map(([value, label]) => (
            <label key={value}>
              <input type="radio" name="source" value={value} checked={source === value} onChange={() => setSource(value)} /> {label}
            </label>
          ))}
        </fieldset>
        {source === 'type' ? (
          <>
            <div className="field inline">
              <label htmlFor="run-shell">Shell</label>
              <select id="run-shell" value={shell} onChange={(e) => setShell(e.target.value as Shell)}>
                {SHELLS.map((s) => (
                  <option key={s}>{s}</option>
                ))}
              </select>
            </div>
            <CodeEditor id="run-content" label="Script" value={content} onChange={setContent} rows={10} />
          </>
        ) : (
          <>
            <div className="field">
              <label htmlFor="run-saved">{source === 'script' ? 'Script' : 'Command'}</label>
              <select id="run-saved" value={saved} onChange={(e) => setSaved(e.target.value)} required>
                <option value="">Choose…</option>
                {choices.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            </div>
            {chosen && (
              <CodeEditor id="run-saved-content" label={`${chosen.name} (${chosen.shell})`} value={chosen.content} onChange={() => {}} readOnly rows={6} />
            )}
          </>
        )}
        <SelectorField
          id="run-selector"
          label="Targets (selector)"
          value={selector}
          onChange={setSelector}
          error={selectorError}
          count={selectorError ? undefined : count}
        />
        <div className="grid4">
          <div className="field">
            <label htmlFor="run-concurrency">Max concurrency</label>
            <input
              id="run-concurrency"
              inputMode="numeric"
              placeholder="all at once, or 10%"
              value={concurrency}
              onChange={(e) => setConcurrency(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="run-errors">Max errors</label>
            <input id="run-errors" inputMode="numeric" placeholder="no limit" value={maxErrors} onChange={(e) => setMaxErrors(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="run-timeout">Timeout (s)</label>
            <input id="run-timeout" type="number" min={1} placeholder="120" value={timeout} onChange={(e) => setTimeoutS(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="run-ttl">TTL for offline systems (s)</label>
            <input id="run-ttl" type="number" min={1} placeholder="3600" value={ttl} onChange={(e) => setTtl(e.target.value)} />
          </div>
        </div>
        {error !== null && <ErrorNote error={error} />}
        {canRun && (
          <button type="submit" disabled={busy || selector.trim() === '' || selectorError !== null}>
            Launch
          </button>
        )}
      </form>
    </section>
  );
}
