import { CliError, errorMessage, type ApiClient } from './client.js';

export interface ServerEvent {
  id: string | undefined;
  event: string;
  data: unknown;
}

/** The server has no event stream at this path (an older or smaller server): callers fall back to polling. */
export class EventsUnsupported extends Error {
  constructor(path: string) {
    super(`${path}: no event stream on this server`);
    this.name = 'EventsUnsupported';
  }
}

/** Reconnects in a row without receiving an event before giving up. */
const MAX_RETRIES = 30;
const RETRY_MS = 1000;

/** Parses one SSE block (the lines between blank lines); undefined for a comment-only block. */
export function parseEventBlock(block: string): ServerEvent | undefined {
  const e: ServerEvent = { id: undefined, event: 'message', data: undefined };
  const data: string[] = [];
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === 0) continue;
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') e.id = value;
    else if (field === 'event') e.event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0 && e.event === 'message') return undefined;
  e.data = data.length === 0 ? undefined : JSON.parse(data.join('\n'));
  return e;
}

async function* blocks(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true }).replaceAll('\r\n', '\n');
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      yield buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
    }
  }
}

/**
 * Follows a muster event stream to its `end` event, reconnecting with
 * Last-Event-ID when the connection drops, so a restarting server loses
 * nothing. A 404 on the first connection throws EventsUnsupported.
 * Only for things known to exist (a job just created or read).
 */
export async function* followEvents(client: ApiClient, path: string, retryMs = RETRY_MS): AsyncGenerator<ServerEvent> {
  let lastId: string | undefined;
  let connected = false;
  for (let retries = 0; retries <= MAX_RETRIES; retries++) {
    if (retries > 0) await new Promise((r) => setTimeout(r, retryMs));
    let res: Response;
    try {
      res = await client.raw('GET', path, undefined, { accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) });
    } catch (e) {
      if (!connected) throw e; // never reached: report it now rather than retry for 30 s
      continue;
    }
    // Callers follow a job they just saw, so a 404 here means the endpoint, not the job, is missing.
    if (res.status === 404 && !connected) {
      await res.body?.cancel();
      throw new EventsUnsupported(path);
    }
    if (!res.ok || !res.body) throw new CliError(errorMessage(res.status, await res.text()));
    connected = true;
    try {
      for await (const block of blocks(res.body as unknown as AsyncIterable<Uint8Array>)) {
        const e = parseEventBlock(block);
        if (!e) continue;
        retries = 0;
        if (e.id) lastId = e.id;
        yield e;
        if (e.event === 'end') return;
      }
    } catch (e) {
      if (e instanceof SyntaxError) throw new CliError(`the event stream sent data that is not JSON: ${e.message}`);
      // the connection dropped: reconnect, resuming after the last event
    }
  }
  throw new CliError('lost the event stream too many times; check the job with `muster jobs show`');
}
