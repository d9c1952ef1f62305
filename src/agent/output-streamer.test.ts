import { describe, expect, it } from 'vitest';
import type { RunOutput } from '../protocol/messages.js';
import { FLUSH_BYTES, OutputStreamer } from './output-streamer.js';

function streamer() {
  const sent: Array<Omit<RunOutput, 'v'>> = [];
  let onSend = (): void => undefined;
  const out = new OutputStreamer('r1', (m) => (sent.push(m), onSend()));
  /** Resolves when the next message is sent. */
  const nextSend = () => new Promise<void>((resolve) => (onSend = resolve));
  return { sent, out, nextSend };
}

describe('OutputStreamer', () => {
  it('batches by stream, numbers messages from 0 and never splits a character', () => {
    const { sent, out } = streamer();
    const e = Buffer.from('é');
    out.push('stdout', Buffer.concat([Buffer.from('a'), e.subarray(0, 1)]));
    out.push('stdout', Buffer.concat([e.subarray(1), Buffer.from('b')]));
    out.push('stderr', Buffer.from('x'));
    out.push('stdout', Buffer.from('c'));
    out.end();
    expect(sent).toEqual([
      { type: 'run.output', run_id: 'r1', seq: 0, stream: 'stdout', data: 'aéb' },
      { type: 'run.output', run_id: 'r1', seq: 1, stream: 'stderr', data: 'x' },
      { type: 'run.output', run_id: 'r1', seq: 2, stream: 'stdout', data: 'c' },
    ]);
  });

  it('sends at once past 64 KiB, and after 100 ms otherwise', async () => {
    const { sent, out, nextSend } = streamer();
    out.push('stdout', Buffer.alloc(FLUSH_BYTES, 'a'));
    expect(sent).toHaveLength(1);
    const pushedAt = Date.now();
    const flushed = nextSend();
    out.push('stdout', Buffer.from('tail'));
    expect(sent).toHaveLength(1);
    await flushed;
    expect(Date.now() - pushedAt).toBeGreaterThanOrEqual(90);
    expect(sent[1]).toMatchObject({ seq: 1, data: 'tail' });
  });
});
