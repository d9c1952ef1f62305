import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'react';
import type { AttachControl } from '../../src/api/native/index.js';
import { api } from './api.js';

/** POST /v1/sessions/{id}/attach-ticket's answer (its schema sits beside the route in src/faces/native/routes/sessions.ts). */
interface AttachTicket {
  ticket: string;
  expires_at: string;
}

type Status = { kind: 'connecting' } | { kind: 'open' } | { kind: 'ended'; message: string } | { kind: 'error'; message: string };

function theme(): { background: string; foreground: string; cursor: string; selectionBackground: string } {
  const dark = matchMedia('(prefers-color-scheme: dark)').matches;
  return dark
    ? { background: '#0d1117', foreground: '#e6edf3', cursor: '#e6edf3', selectionBackground: '#264f78' }
    : { background: '#ffffff', foreground: '#1f2328', cursor: '#1f2328', selectionBackground: '#b6d7ff' };
}

/** An xterm.js terminal with a fit addon, disposed with the component. */
export function useXterm(): [React.RefObject<HTMLDivElement | null>, Terminal | null, FitAddon | null] {
  const host = useRef<HTMLDivElement>(null);
  const [parts, setParts] = useState<[Terminal, FitAddon] | null>(null);
  useEffect(() => {
    const term = new Terminal({
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
      fontSize: 14,
      theme: theme(),
      cursorBlink: true,
      scrollback: 5000,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host.current!);
    fit.fit();
    setParts([term, fit]);
    return () => term.dispose();
  }, []);
  return [host, parts?.[0] ?? null, parts?.[1] ?? null];
}

/**
 * The live terminal of a session: a single-use ticket from an authenticated
 * POST lets the WebSocket attach without the key in its URL; keystrokes go
 * out as binary frames, resizes as JSON text frames; the exit arrives as one.
 */
export function LiveTerminal({ id, onEnded }: { id: string; onEnded?: () => void }) {
  const [host, term, fit] = useXterm();
  const [status, setStatus] = useState<Status>({ kind: 'connecting' });
  const [size, setSize] = useState('');
  useEffect(() => {
    if (!term || !fit) return;
    setSize(`${term.cols}×${term.rows}`);
    let socket: WebSocket | undefined;
    let closed = false;
    const encoder = new TextEncoder();
    const sendResize = () => socket?.readyState === WebSocket.OPEN && socket.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(host.current!);
    const resized = term.onResize(({ cols, rows }) => {
      setSize(`${cols}×${rows}`);
      sendResize();
    });
    const typed = term.onData((d) => socket?.readyState === WebSocket.OPEN && socket.send(encoder.encode(d)));
    // Ctrl+Shift+C copies the selection; Ctrl+Shift+V pastes (the browser's own paste works too).
    term.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
      if (e.code === 'KeyC') {
        void navigator.clipboard?.writeText(term.getSelection());
        return false;
      }
      if (e.code === 'KeyV') {
        void navigator.clipboard?.readText().then((t) => term.paste(t));
        return false;
      }
      return true;
    });
    api<AttachTicket>('POST', `/sessions/${id}/attach-ticket`).then(
      ({ ticket }) => {
        if (closed) return;
        const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
        socket = new WebSocket(`${scheme}://${location.host}/v1/sessions/${encodeURIComponent(id)}/attach?ticket=${encodeURIComponent(ticket)}`);
        socket.binaryType = 'arraybuffer';
        socket.onopen = () => {
          setStatus({ kind: 'open' });
          sendResize();
          term.focus();
        };
        socket.onmessage = (m) => {
          if (m.data instanceof ArrayBuffer) return term.write(new Uint8Array(m.data));
          const control = JSON.parse(String(m.data)) as AttachControl | { type: 'error'; code: string; message: string };
          if (control.type === 'notice') term.write(`\r\n\x1b[33m${control.message}\x1b[0m\r\n`);
          else if (control.type === 'exit') {
            const how = control.exit_code !== null ? `exit ${control.exit_code}` : control.signal ? `signal ${control.signal}` : control.reason;
            setStatus({ kind: 'ended', message: `Session ended: ${how}${control.message ? ` (${control.message})` : ''}` });
            onEnded?.();
          } else if (control.type === 'error') setStatus({ kind: 'error', message: control.message });
        };
        socket.onclose = (e) =>
          setStatus((s) =>
            s.kind === 'open' || s.kind === 'connecting' ? { kind: 'ended', message: `Disconnected (${e.code}${e.reason ? ` ${e.reason}` : ''})` } : s,
          );
      },
      (err: Error) => setStatus({ kind: 'error', message: err.message }),
    );
    return () => {
      closed = true;
      observer.disconnect();
      resized.dispose();
      typed.dispose();
      socket?.close();
    };
  }, [term, fit, id]);
  return (
    <div className="terminal-wrap">
      <div className="terminal-bar">
        <span role="status" data-testid="terminal-status">
          {status.kind === 'connecting' ? 'Connecting…' : status.kind === 'open' ? `Connected · ${size}` : status.message}
        </span>
        <button onClick={() => term && void navigator.clipboard?.writeText(term.getSelection())}>Copy selection</button>
        <button onClick={() => term && void navigator.clipboard?.readText().then((t) => term.paste(t))}>Paste</button>
      </div>
      <div ref={host} className="terminal" data-testid="terminal" aria-label="Terminal" />
    </div>
  );
}

/** Plays an asciicast v2 recording into a terminal, in real time or faster. */
export function Playback({ cast }: { cast: string }) {
  const [host, term, fit] = useXterm();
  const [speed, setSpeed] = useState(1);
  const [run, setRun] = useState(0);
  useEffect(() => {
    if (!term || !fit) return;
    const [headerLine, ...lines] = cast.trim().split('\n');
    const header = JSON.parse(headerLine ?? '{}') as { width?: number; height?: number };
    term.reset();
    if (header.width && header.height) term.resize(header.width, header.height);
    const events = lines.map((l) => JSON.parse(l) as [number, string, string]);
    let i = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const start = performance.now();
    const step = () => {
      const now = (performance.now() - start) / 1000;
      while (i < events.length && events[i]![0] / speed <= now) {
        const [, kind, data] = events[i++]!;
        if (kind === 'o') term.write(data);
        else if (kind === 'r') {
          const [cols, rows] = data.split('x').map(Number);
          if (cols && rows) term.resize(cols, rows);
        }
      }
      if (i < events.length) timer = setTimeout(step, Math.min(500, Math.max(0, (events[i]![0] / speed - now) * 1000)));
    };
    step();
    return () => clearTimeout(timer);
  }, [term, fit, cast, speed, run]);
  return (
    <div className="terminal-wrap">
      <div className="terminal-bar">
        <button onClick={() => setRun((n) => n + 1)}>Replay</button>
        <label>
          Speed{' '}
          <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))}>
            {[1, 2, 4, 16].map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
      </div>
      <div ref={host} className="terminal" data-testid="playback" aria-label="Recording" />
    </div>
  );
}
