export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/**
 * Reads a Server-Sent Events stream until `until` says stop (or the stream
 * ends). A minimal client for tests: id, event and one data line per event.
 */
export async function readSse(
  url: string,
  headers: Record<string, string>,
  until: (e: SseEvent, all: SseEvent[]) => boolean,
): Promise<{ status: number; events: SseEvent[] }> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  if (!res.ok || !res.body) return { status: res.status, events };
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const e: SseEvent = { event: 'message', data: undefined };
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) e.id = line.slice(4);
          else if (line.startsWith('event: ')) e.event = line.slice(7);
          else if (line.startsWith('data: ')) e.data = JSON.parse(line.slice(6));
        }
        if (block.startsWith(':')) continue;
        events.push(e);
        if (until(e, events)) return { status: res.status, events };
      }
    }
  } finally {
    controller.abort();
  }
  return { status: res.status, events };
}
