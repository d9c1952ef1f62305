import { describe, expect, it } from 'vitest';
import { decodeAgentMessage, decodeServerMessage, encode, SESSION_CHUNK_BYTES } from './messages.js';

describe('session messages', () => {
  it('round-trip in both directions', () => {
    const out = encode({ type: 'session.output', session_id: 's1', seq: 0, data: Buffer.from('42\r\n').toString('base64') });
    expect(decodeAgentMessage(out)).toMatchObject({ ok: true, message: { type: 'session.output', seq: 0 } });
    const open = encode({ type: 'session.open', session_id: 's1', run_as: null, cols: 80, rows: 24, window: 256 * 1024 });
    expect(decodeServerMessage(open)).toMatchObject({ ok: true, message: { type: 'session.open', window: 262144 } });
    expect(decodeServerMessage(encode({ type: 'session.credit', session_id: 's1', bytes: 16384 })).ok).toBe(true);
    expect(decodeAgentMessage(encode({ type: 'session.exit', session_id: 's1', exit_code: null, signal: 'SIGHUP', error: null })).ok).toBe(true);
  });

  it('refuse what breaks the flow control or the terminal', () => {
    // The bound is on the base64 text: a chunk and one more 3-byte group is over it.
    const big = Buffer.alloc(SESSION_CHUNK_BYTES + 3).toString('base64');
    expect(decodeAgentMessage(encode({ type: 'session.output', session_id: 's1', seq: 0, data: big }))).toMatchObject({
      ok: false,
      error: expect.stringContaining('session.output: data'),
    });
    expect(
      decodeAgentMessage(encode({ type: 'session.output', session_id: 's1', seq: 0, data: Buffer.alloc(SESSION_CHUNK_BYTES).toString('base64') })).ok,
    ).toBe(true);
    expect(decodeServerMessage(encode({ type: 'session.credit', session_id: 's1', bytes: 0 })).ok).toBe(false);
    expect(decodeServerMessage(encode({ type: 'session.resize', session_id: 's1', cols: 0, rows: 24 })).ok).toBe(false);
    expect(decodeServerMessage(encode({ type: 'session.open', session_id: '../x', run_as: null, cols: 80, rows: 24, window: 65536 })).ok).toBe(false);
    // Agent messages are not server messages.
    expect(decodeServerMessage(encode({ type: 'session.opened', session_id: 's1', pty: true, notice: null })).ok).toBe(false);
  });
});
