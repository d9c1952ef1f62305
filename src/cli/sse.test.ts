import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, CliError } from './client.js';
import { EventsUnsupported, followEvents, parseEventBlock, type ServerEvent } from './sse.js';
import { apiError, FakeApi } from './testing/fake-api.js';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.stop();
  api = undefined;
});

async function collect(client: ApiClient, path: string): Promise<ServerEvent[]> {
  const events: ServerEvent[] = [];
  for await (const e of followEvents(client, path, 1)) events.push(e);
  return events;
}

const sse = (res: ServerResponse, text: string, end = true) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(text);
  if (end) res.end();
  return undefined;
};

describe('parseEventBlock', () => {
  it('reads id, event and JSON data; skips comments', () => {
    expect(parseEventBlock('id: 7\nevent: run\ndata: {"a":1}')).toEqual({ id: '7', event: 'run', data: { a: 1 } });
    expect(parseEventBlock('event: end\ndata: {}')).toEqual({ id: undefined, event: 'end', data: {} });
    expect(parseEventBlock(': keep-alive')).toBeUndefined();
    expect(parseEventBlock('data: [1,\ndata: 2]')).toMatchObject({ event: 'message', data: [1, 2] });
  });
});

describe('followEvents', () => {
  it('yields events to the end one, across chunk boundaries', async () => {
    api = new FakeApi({
      'GET /v1/jobs/j1/events': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': keep-alive\n\nid: 1\nevent: output\nda');
        setImmediate(() => res.end('ta: {"data":"hi"}\n\nevent: end\ndata: {}\n\n'));
        return undefined;
      },
    });
    const events = await collect(new ApiClient(await api.start(), 'k'), '/v1/jobs/j1/events');
    expect(events.map((e) => e.event)).toEqual(['output', 'end']);
    expect(events[0]!.data).toEqual({ data: 'hi' });
  });

  it('reconnects after a drop with Last-Event-ID', async () => {
    let calls = 0;
    api = new FakeApi({
      'GET /v1/jobs/j1/events': (req, res) =>
        ++calls === 1
          ? sse(res, 'id: c1\nevent: output\ndata: {"n":1}\n\n')
          : sse(res, `id: c2\nevent: output\ndata: ${JSON.stringify({ after: req.headers['last-event-id'] })}\n\nevent: end\ndata: {}\n\n`),
    });
    const events = await collect(new ApiClient(await api.start(), 'k'), '/v1/jobs/j1/events');
    expect(events.map((e) => e.data)).toEqual([{ n: 1 }, { after: 'c1' }, {}]);
  });

  it('reports a missing endpoint as EventsUnsupported and other errors as CliErrors', async () => {
    api = new FakeApi({ 'GET /v1/jobs/j2/events': () => apiError(403, 'FORBIDDEN', 'viewers cannot') });
    const client = new ApiClient(await api.start(), 'k');
    await expect(collect(client, '/v1/jobs/j1/events')).rejects.toBeInstanceOf(EventsUnsupported);
    await expect(collect(client, '/v1/jobs/j2/events')).rejects.toEqual(new CliError('viewers cannot'));
  });
});
