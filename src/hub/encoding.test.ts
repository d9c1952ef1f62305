import { describe, expect, it } from 'vitest';
import { decodeServerMessage, encode, encodeRunAck, runDeliverEncoder, type RunDeliverShared } from '../protocol/messages.js';

const shared: RunDeliverShared = {
  job_id: 'a'.repeat(24),
  shell: 'bash',
  content: 'echo "quoted" \\ and \u2028 and é\n',
  env: { A: '1', 'B"': 'x\ny' },
  timeout_s: 30,
  run_as: null,
};

describe('the hub sends messages encoded once per job', () => {
  it('a run.deliver from the shared encoder is exactly encode()’s text, and valid', () => {
    const deliver = runDeliverEncoder(shared);
    for (const runId of ['b'.repeat(24), 'c'.repeat(24)]) {
      const text = deliver(runId);
      expect(text).toBe(encode({ type: 'run.deliver', run_id: runId, ...shared }));
      expect(decodeServerMessage(text)).toEqual({ ok: true, message: { v: 1, type: 'run.deliver', run_id: runId, ...shared } });
    }
    expect(runDeliverEncoder({ ...shared, run_as: 'deploy' })('d'.repeat(24))).toBe(
      encode({ type: 'run.deliver', run_id: 'd'.repeat(24), ...shared, run_as: 'deploy' }),
    );
  });

  it('a run.ack is exactly encode()’s text', () => {
    expect(encodeRunAck('e'.repeat(24))).toBe(encode({ type: 'run.ack', run_id: 'e'.repeat(24) }));
  });
});
