import { useEffect, useRef, useState, type DependencyList } from 'react';
import type { SystemList } from '../../src/api/native/index.js';
import { api, ApiError } from './api.js';

export type Async<T> = { state: 'loading' } | { state: 'error'; error: ApiError | Error } | { state: 'ready'; value: T };

/** Runs `load` when `deps` change (the previous call's answer is dropped); `reload` runs it again. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): [Async<T>, () => void] {
  const [result, setResult] = useState<Async<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const abort = new AbortController();
    load(abort.signal).then(
      (value) => !abort.signal.aborted && setResult({ state: 'ready', value }),
      (error: Error) => !abort.signal.aborted && setResult({ state: 'error', error }),
    );
    return () => abort.abort();
  }, [...deps, tick]);
  return [result, () => setTick((n) => n + 1)];
}

export function ErrorNote({ error }: { error: unknown }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <p role="alert" className="error">
      {message}
    </p>
  );
}

/** "3 min ago", from an ISO instant; the instant itself in the title. */
export function Ago({ at }: { at: string | null }) {
  if (!at) return <span className="muted">never</span>;
  const s = Math.max(0, Math.round((Date.now() - Date.parse(at)) / 1000));
  const text =
    s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : s < 86400 ? `${Math.round(s / 3600)} h ago` : `${Math.round(s / 86400)} d ago`;
  return (
    <time dateTime={at} title={at}>
      {text}
    </time>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`badge state-${state}`}>{state.replace('_', ' ')}</span>;
}

export function Online({ connected }: { connected: boolean }) {
  return <span className={`badge ${connected ? 'state-succeeded' : 'state-lost'}`}>{connected ? 'online' : 'offline'}</span>;
}

/** The position a selector error names ("… at position 7"), 1-based; undefined when it names none. */
export function errorPosition(message: string): number | undefined {
  const m = /at position (\d+)/.exec(message);
  return m ? Number(m[1]) : undefined;
}

/** A selector error under its input: the message, and the text with a caret under the position. */
export function SelectorError({ text, message, id }: { text: string; message: string; id: string }) {
  const pos = errorPosition(message);
  return (
    <div id={id} role="alert" className="error selector-error">
      <span>{message}</span>
      {pos !== undefined && (
        <pre aria-hidden="true">
          {text}
          {'\n'}
          {' '.repeat(Math.max(0, pos - 1))}^
        </pre>
      )}
    </div>
  );
}

/** The text after it stops changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

/**
 * The systems a selector matches (all systems for an empty one; nothing is
 * asked with `enabled` false), fetched as the text settles; a syntax error
 * comes back as `error`.
 */
export function useSystems(selector: string, enabled = true): Async<SystemList> {
  const settled = useDebounced(selector.trim(), 250);
  const [result] = useAsync(
    (signal) =>
      enabled ? api<SystemList>('GET', `/systems${settled ? `?select=${encodeURIComponent(settled)}` : ''}`, undefined, signal) : new Promise<never>(() => {}),
    [settled, enabled],
  );
  return result;
}

/** A selector input with its label, hint and inline error. */
export function SelectorField(props: { value: string; onChange: (v: string) => void; error: string | null; label: string; id: string; count?: string }) {
  const ref = useRef<HTMLInputElement>(null);
  const errorId = `${props.id}-error`;
  return (
    <div className="field selector">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        ref={ref}
        id={props.id}
        value={props.value}
        spellCheck={false}
        autoComplete="off"
        placeholder="tag:web and not hostname:canary"
        aria-invalid={props.error !== null}
        aria-describedby={props.error ? errorId : `${props.id}-hint`}
        onChange={(e) => props.onChange(e.target.value)}
      />
      <span id={`${props.id}-hint`} className="hint" aria-live="polite">
        {props.count ?? 'id: group: tag: hostname: name: ip: comments: os: fact:PATH=VALUE, and / or / not, ( )'}
      </span>
      {props.error && <SelectorError id={errorId} text={props.value.trim()} message={props.error} />}
    </div>
  );
}

/** A simple table's header row. */
export function Thead({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th scope="col" key={c}>
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A button that copies `text` to the clipboard, saying so once done. */
export function Copy({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button onClick={() => void navigator.clipboard?.writeText(text).then(() => setCopied(true))} aria-label={label}>
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

/**
 * A button that asks first: a modal dialog (the browser's own, so focus stays
 * in it and Escape closes it) naming what will happen, with Cancel focused,
 * and the action's error shown in it.
 */
export function ConfirmButton(props: { label: string; title: string; question: string; confirm: string; onConfirm: () => Promise<void>; className?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const open = () => {
    ref.current?.showModal();
    // The safe choice has the focus: Enter on a dialog opened by mistake deletes nothing.
    cancel.current?.focus();
  };
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm();
      ref.current?.close();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button className={props.className ?? 'danger'} aria-label={props.title} onClick={open}>
        {props.label}
      </button>
      <dialog ref={ref} className="confirm" aria-label={props.title} onClose={() => setError(null)}>
        <p>{props.question}</p>
        {error !== null && <ErrorNote error={error} />}
        <p className="actions">
          <button className="danger" disabled={busy} onClick={() => void run()}>
            {props.confirm}
          </button>
          <button ref={cancel} onClick={() => ref.current?.close()}>
            Cancel
          </button>
        </p>
      </dialog>
    </>
  );
}
