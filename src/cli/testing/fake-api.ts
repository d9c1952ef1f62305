import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake server saw. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** What a route answers: a JSON body by default, or raw text with its own content type. */
export interface FakeAnswer {
  status?: number;
  json?: unknown;
  text?: string;
  contentType?: string;
}

export type FakeRoute = (req: SeenRequest, res: ServerResponse) => FakeAnswer | undefined | Promise<FakeAnswer | undefined>;

/**
 * A fake muster API on 127.0.0.1 (a network peer for tests, not a mock of
 * the CLI's code). Routes are keyed `METHOD /path` (query string excluded);
 * a route that returns undefined has answered on `res` itself (for SSE).
 */
export class FakeApi {
  readonly seen: SeenRequest[] = [];
  private readonly server = createServer((req, res) => void this.handle(req, res));

  constructor(readonly routes: Record<string, FakeRoute> = {}) {}

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0]!;
    const seen: SeenRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: text ? JSON.parse(text) : undefined };
    this.seen.push(seen);
    const route = this.routes[`${seen.method} ${path}`];
    const answer: FakeAnswer | undefined = route
      ? await route(seen, res)
      : { status: 404, json: { error: { code: 'NOT_FOUND', message: `no such endpoint: ${seen.method} ${path}`, request_id: 'req-404' } } };
    if (!answer) return;
    const body = answer.text ?? (answer.json === undefined ? '' : JSON.stringify(answer.json));
    const type = answer.contentType ?? (answer.text === undefined ? 'application/json' : 'text/plain');
    res.writeHead(answer.status ?? 200, body ? { 'content-type': type } : {});
    res.end(body);
  }
}

/** A native error answer. */
export function apiError(status: number, code: string, message: string, requestId = 'req-1'): FakeAnswer {
  return { status, json: { error: { code, message, request_id: requestId } } };
}
