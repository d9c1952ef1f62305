import { StringDecoder } from 'node:string_decoder';
import type { RunOutput } from '../protocol/messages.js';

type Stream = 'stdout' | 'stderr';
type OutputMessage = Omit<RunOutput, 'v'>;

/** Live output is batched: one message per 100 ms or 64 KiB per run, whichever comes first. */
export const FLUSH_MS = 100;
export const FLUSH_BYTES = 64 * 1024;

/**
 * Turns a run's raw output into `run.output` messages: in order, `seq` from 0
 * across both streams, batched, and decoded without splitting a UTF-8
 * character across messages. Whether a message reaches the server is the
 * sender's business (while disconnected they are dropped: the result carries
 * the output). A pipe delivers at most 64 KiB per read, so one message holds
 * at most ~128 KiB, well under the protocol's 256 KiB.
 */
export class OutputStreamer {
  private seq = 0;
  private pending: { stream: Stream; text: string; bytes: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  constructor(
    private readonly runId: string,
    private readonly send: (message: OutputMessage) => unknown,
  ) {}

  push(stream: Stream, data: Buffer): void {
    this.append(stream, this.decoders[stream].write(data), data.length);
  }

  /** Sends what is pending, including any incomplete character at the end of a stream; call when the run ends. */
  end(): void {
    for (const stream of ['stdout', 'stderr'] as const) this.append(stream, this.decoders[stream].end(), 0);
    this.flush();
  }

  private append(stream: Stream, text: string, bytes: number): void {
    if (text === '') return;
    if (this.pending && this.pending.stream !== stream) this.flush();
    this.pending = { stream, text: (this.pending?.text ?? '') + text, bytes: (this.pending?.bytes ?? 0) + bytes };
    if (this.pending.bytes >= FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending) return;
    this.send({ type: 'run.output', run_id: this.runId, seq: this.seq++, stream: this.pending.stream, data: this.pending.text });
    this.pending = undefined;
  }
}
