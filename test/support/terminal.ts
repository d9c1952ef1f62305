import { EventEmitter, once } from 'node:events';
import WebSocket from 'ws';

export interface ExitEvent {
  type: 'exit';
  reason: string;
  message: string;
  exit_code: number | null;
  signal: string | null;
}

/** A viewer on a session's attach socket: what the terminal printed, the control events, and the close. */
export class TerminalClient extends EventEmitter {
  output = '';
  readonly events: Array<Record<string, unknown>> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  /** An HTTP status answered instead of the upgrade. */
  refused: number | undefined;
  private readonly ws: WebSocket;

  constructor(base: string, key: string, sessionId: string) {
    super();
    this.ws = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/sessions/${sessionId}/attach`, { headers: { authorization: `Bearer ${key}` } });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.output += data.toString();
      else this.events.push(JSON.parse(data.toString()) as Record<string, unknown>);
      this.emit('data');
    });
    this.ws.on('unexpected-response', (_req, res) => {
      this.refused = res.statusCode;
      res.resume();
      this.ws.terminate();
    });
    this.ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('close', () => reject(new Error(`the attach socket closed before opening (HTTP ${this.refused})`)));
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => (this.emit('data'), resolve({ code, reason: reason.toString() }))));
  }

  type(text: string): void {
    this.ws.send(Buffer.from(text), { binary: true });
  }

  resize(cols: number, rows: number): void {
    this.ws.send(JSON.stringify({ type: 'resize', cols, rows }));
  }

  close(): void {
    this.ws.close();
  }

  /** Resolves once the terminal's output matches `re` (output is awaited, never polled). */
  async sees(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = AbortSignal.timeout(timeoutMs);
    for (;;) {
      const m = this.output.match(re);
      if (m) return m;
      try {
        await once(this, 'data', { signal: deadline });
      } catch {
        throw new Error(`the terminal never showed ${re}; it shows:\n${this.output}`);
      }
    }
  }

  /** The session's exit event, once it comes. */
  async exit(timeoutMs = 15_000): Promise<ExitEvent> {
    const deadline = AbortSignal.timeout(timeoutMs);
    for (;;) {
      const e = this.events.find((x) => x.type === 'exit');
      if (e) return e as unknown as ExitEvent;
      try {
        await once(this, 'data', { signal: deadline });
      } catch {
        throw new Error(`no exit event; events: ${JSON.stringify(this.events)}; output:\n${this.output}`);
      }
    }
  }
}
