import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';

/** One POST the receiver got. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
}

/** How the receiver answers a request on a path: a status (and body), or `hang` (never answers). */
export type Answer = { status: number; body?: string } | 'hang';

/**
 * A real HTTP server on 127.0.0.1 standing in for a webhook's receiver. Each
 * path answers by its script (statuses in turn, the last one repeating); a
 * test awaits the request it expects with `next`, which resolves as it
 * arrives (or has arrived).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, Answer[]>();
  private readonly waiters: Array<{ match: (r: Received) => boolean; resolve: (r: Received) => void }> = [];
  private readonly hanging = new Set<ServerResponse>();
  private readonly server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const path = req.url ?? '/';
      const r: Received = { path, headers: req.headers, body, json, at: Date.now() };
      this.received.push(r);
      for (const w of [...this.waiters])
        if (w.match(r)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(r);
        }
      const script = this.scripts.get(path) ?? [{ status: 200 }];
      const answer = script.length > 1 ? script.shift()! : script[0]!;
      if (answer === 'hang') {
        this.hanging.add(res);
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? `answered ${answer.status}`);
    });
  });

  static async start(): Promise<WebhookReceiver> {
    const r = new WebhookReceiver();
    r.server.listen(0, '127.0.0.1');
    await once(r.server, 'listening');
    return r;
  }

  /** The URL of `path` on this receiver. */
  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}${path}`;
  }

  /** Answers requests on `path` with these, in turn; the last one keeps answering. */
  script(path: string, answers: Answer[]): void {
    this.scripts.set(path, [...answers]);
  }

  /** The first request (already received, or still to come) that `match` accepts. */
  next(match: (r: Received) => boolean, timeoutMs = 20_000): Promise<Received> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a webhook delivery')), timeoutMs);
      this.waiters.push({
        match,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}
