import { EventEmitter, once } from 'node:events';
import WebSocket from 'ws';

/** Resolves once `output()` matches `re`, re-checking on each `data` event of `source`. */
async function shows(source: EventEmitter, output: () => string, re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = AbortSignal.timeout(timeoutMs);
  for (;;) {
    const m = output().match(re);
    if (m) return m;
    try {
      await once(source, 'data', { signal: deadline });
    } catch {
      throw new Error(`the terminal never showed ${re}; it shows:\n${output()}`);
    }
  }
}

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
  sees(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return shows(this, () => this.output, re, timeoutMs);
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

/**
 * What a user checks of a shell first: it computes (`echo $((6*7))` prints
 * 42), it follows a resize (`stty size`), and it ends with the status given
 * to `exit`; resolves with the exit event once the socket has closed.
 */
export async function exerciseShell(t: TerminalClient): Promise<{ exit: ExitEvent; closeCode: number }> {
  await t.opened;
  t.type('echo $((6*7))\n');
  await t.sees(/^42\r?$/m);
  t.resize(100, 30);
  t.type('stty size\n');
  await t.sees(/^30 100\r?$/m);
  t.type('exit 7\n');
  const exit = await t.exit();
  return { exit, closeCode: (await t.closed).code };
}

/** A process on a pseudo-terminal (node-pty), as a user at a terminal would drive it. */
export class PtyProcess extends EventEmitter {
  output = '';
  readonly exited: Promise<number>;

  private constructor(private readonly pty: import('node-pty').IPty) {
    super();
    pty.onData((d) => ((this.output += d), this.emit('data')));
    this.exited = new Promise((resolve) => pty.onExit(({ exitCode }) => (this.emit('data'), resolve(exitCode))));
  }

  static async spawn(file: string, args: string[], size: { cols: number; rows: number }): Promise<PtyProcess> {
    const { spawn } = await import('node-pty');
    return new PtyProcess(spawn(file, args, { name: 'xterm-256color', ...size, env: process.env as Record<string, string> }));
  }

  type(text: string): void {
    this.pty.write(text);
  }

  resize(cols: number, rows: number): void {
    this.pty.resize(cols, rows);
  }

  /** Resolves once the output (from offset `from`) matches `re`. */
  sees(re: RegExp, timeoutMs = 15_000, from = 0): Promise<RegExpMatchArray> {
    return shows(this, () => this.output.slice(from), re, timeoutMs);
  }
}
