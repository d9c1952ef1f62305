import { describe, expect, it } from 'vitest';
import { decodeAgentMessage, decodeServerMessage, encode } from './messages.js';

const result = {
  type: 'run.result',
  run_id: 'abc',
  outcome: 'exited',
  exit_code: 0,
  signal: null,
  started_at: '2026-11-23T12:00:00.000Z',
  finished_at: '2026-11-23T12:00:01.000Z',
  stdout: '',
  stderr: '',
  stdout_truncated: false,
  stderr_truncated: false,
  error: null,
} as const;

describe('protocol', () => {
  it('round-trips a message, stamping the version', () => {
    const decoded = decodeAgentMessage(encode(result));
    expect(decoded).toEqual({ ok: true, message: { v: 1, ...result } });
  });

  it('refuses other versions, unknown types, bad fields and non-JSON, saying why', () => {
    expect(decodeAgentMessage(JSON.stringify({ ...result, v: 2 }))).toEqual({ ok: false, error: 'unsupported protocol version 2' });
    expect(decodeAgentMessage(encode({ type: 'run.deliver' } as never))).toMatchObject({ ok: false, error: 'unknown message type run.deliver' });
    const bad = decodeAgentMessage(JSON.stringify({ v: 1, ...result, exit_code: 'zero' }));
    expect(bad).toMatchObject({ ok: false });
    expect(!bad.ok && bad.error).toContain('exit_code');
    expect(decodeAgentMessage(JSON.stringify({ v: 1, ...result, run_id: '../x' }))).toMatchObject({ ok: false });
    expect(decodeServerMessage('{nope')).toEqual({ ok: false, error: 'message is not JSON' });
  });

  it('keeps the two directions apart', () => {
    expect(decodeServerMessage(encode(result))).toMatchObject({ ok: false, error: 'unknown message type run.result' });
    expect(decodeServerMessage(encode({ type: 'ping', id: 1 }))).toEqual({ ok: true, message: { v: 1, type: 'ping', id: 1 } });
  });
});
