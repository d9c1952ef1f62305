import { StringDecoder } from 'node:string_decoder';
import type { SessionRecord, SessionStore } from './store.js';

/** Bytes of event lines held before they are written. */
const FLUSH_BYTES = 32 * 1024;
/** The longest a recorded event waits to be written. */
const FLUSH_MS = 250;

/** The asciicast v2 header line of a session's recording. */
export function asciicastHeader(session: SessionRecord): string {
  const timestamp = Math.floor(Date.parse(session.startedAt ?? session.createdAt) / 1000);
  return JSON.stringify({
    version: 2,
    width: session.cols,
    height: session.rows,
    timestamp,
    env: { TERM: 'xterm-256color' },
    title: `muster session ${session.id} on system ${session.systemId}`,
  });
}

/**
 * One session's recording as asciicast v2 event lines (`[seconds, "o"|"i"|"r",
 * data]`), written to the store in parts: at most every 250 ms or 32 KiB, off
 * the path of the terminal's bytes, so a slow database delays the recording,
 * never a keystroke. Output and input are decoded as UTF-8 across chunk
 * boundaries (a character split between two reads is kept whole).
 */
export class Recording {
  private lines: string[] = [];
  private bytes = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly out = new StringDecoder('utf8');
  private readonly in = new StringDecoder('utf8');

  constructor(
    private readonly store: Pick<SessionStore, 'appendRecording'>,
    private readonly sessionId: string,
    private readonly startMs: number,
    private readonly recordInput: boolean,
    private readonly onError: (err: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  output(data: Buffer): void {
    this.event('o', this.out.write(data));
  }

  input(data: Buffer): void {
    if (this.recordInput) this.event('i', this.in.write(data));
  }

  resize(cols: number, rows: number): void {
    this.event('r', `${cols}x${rows}`);
  }

  /** Writes what is held; resolves once every part so far is stored. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.lines.length > 0) {
      const part = this.lines.join('');
      const seq = this.seq++;
      this.lines = [];
      this.bytes = 0;
      this.writing = this.writing.then(() => this.store.appendRecording(this.sessionId, seq, part)).catch(this.onError);
    }
    return this.writing;
  }

  private event(kind: 'o' | 'i' | 'r', text: string): void {
    if (text === '') return;
    const line = `${JSON.stringify([Number(((this.now() - this.startMs) / 1000).toFixed(6)), kind, text])}\n`;
    this.lines.push(line);
    this.bytes += line.length;
    if (this.bytes >= FLUSH_BYTES) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }
}
