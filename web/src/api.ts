import type { ErrorBody, Whoami } from '../../src/api/native/index.js';

/** The key lives in this tab's session storage only: never in a URL, gone when the tab closes. */
const KEY = 'muster.apiKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, key);
}

/** A native API error, with the body's code and message (and the whole body, for 409 candidates). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = storedKey();
  return { ...(key ? { authorization: `Bearer ${key}` } : {}), ...extra };
}

/** Calls the native API with the stored key; JSON in, JSON out; a non-2xx answer throws ApiError. */
export async function api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(`/v1${path}`, {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? null : JSON.stringify(body),
    signal: signal ?? null,
  });
  const text = await res.text();
  const parsed: unknown = text === '' ? undefined : safeJson(text);
  if (!res.ok) {
    const err = (parsed as Partial<ErrorBody> | undefined)?.error;
    if (res.status === 401) onUnauthenticated?.();
    throw new ApiError(res.status, err?.code ?? 'INTERNAL', err?.message ?? `${res.status} ${res.statusText}`, parsed);
  }
  return parsed as T;
}

/** Fetches a body that is not JSON (recordings, exports) with the stored key. */
async function apiRaw(path: string): Promise<Response> {
  const res = await fetch(`/v1${path}`, { headers: headers() });
  if (!res.ok) {
    const err = (safeJson(await res.text()) as Partial<ErrorBody> | undefined)?.error;
    if (res.status === 401) onUnauthenticated?.();
    throw new ApiError(res.status, err?.code ?? 'INTERNAL', err?.message ?? `${res.status} ${res.statusText}`, undefined);
  }
  return res;
}

export async function apiText(path: string): Promise<string> {
  return (await apiRaw(path)).text();
}

export async function apiBlob(path: string): Promise<Blob> {
  return (await apiRaw(path)).blob();
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Set by the app: a 401 means the key no longer works, so it logs out. */
let onUnauthenticated: (() => void) | undefined;
export function whenUnauthenticated(fn: () => void): void {
  onUnauthenticated = fn;
}

export function whoami(key: string): Promise<Whoami> {
  return fetch('/v1/whoami', { headers: { authorization: `Bearer ${key}` } }).then(async (res) => {
    const body = (await res.json()) as Whoami | ErrorBody;
    if (!res.ok || 'error' in body) throw new ApiError(res.status, 'UNAUTHENTICATED', 'error' in body ? body.error.message : 'refused', body);
    return body;
  });
}

export interface StreamEvent {
  id: string | undefined;
  event: string;
  data: unknown;
}

/**
 * Reads a Server-Sent Events stream with fetch, so the key goes in the
 * Authorization header (EventSource cannot send one). Reconnects with
 * Last-Event-ID after a drop, until `signal` aborts or an `end` event.
 */
export async function streamEvents(path: string, onEvent: (e: StreamEvent) => void, signal: AbortSignal): Promise<void> {
  let lastId: string | undefined;
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const res = await fetch(`/v1${path}`, { headers: headers(lastId ? { 'last-event-id': lastId } : {}), signal });
      if (!res.ok || !res.body) throw new ApiError(res.status, 'INTERNAL', `events: ${res.status}`, undefined);
      attempt = 0;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const e = parseBlock(block);
          if (!e) continue;
          if (e.id) lastId = e.id;
          onEvent(e);
          if (e.event === 'end') return;
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) throw err;
    }
    // Capped, jittered backoff before reconnecting.
    await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2)));
  }
}

function parseBlock(block: string): StreamEvent | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    if (line.startsWith('id:')) id = line.slice(3).trim();
    else if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length === 0) return undefined;
  return { id, event, data: safeJson(data.join('\n')) };
}
