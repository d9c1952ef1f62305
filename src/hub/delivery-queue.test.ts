import { describe, expect, it } from 'vitest';
import type { Delivery } from '../core/jobs/index.js';
import { DeliveryQueue } from './delivery-queue.js';

function delivery(runId: string): Delivery {
  return { runId, jobId: 'j', shell: 'bash', content: 'true', env: {}, timeoutS: 60, runAs: null };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('DeliveryQueue', () => {
  it('coalesces hints given together into one claim, and claims hints that arrive meanwhile next', async () => {
    const claims: string[][] = [];
    const sent: string[] = [];
    let release: (() => void) | undefined;
    const q = new DeliveryQueue({
      ready: (ids) => ids.filter((id) => id !== 'offline'),
      claim: async (ids) => {
        claims.push(ids);
        if (claims.length === 1) await new Promise<void>((r) => (release = r));
        return new Map(ids.map((id) => [id, [delivery(`run-${id}`)]]));
      },
      send: (systemId, ds) => sent.push(...ds.map((d) => `${systemId}:${d.runId}`)),
      onError: () => undefined,
    });
    q.request(['a', 'b']);
    q.request(['c', 'offline']);
    await settle();
    q.request(['d']);
    q.request(['e', 'd']);
    release!();
    await settle();
    await settle();
    expect(claims).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    expect(sent).toEqual(['a:run-a', 'b:run-b', 'c:run-c', 'd:run-d', 'e:run-e']);
  });

  it('a failed claim is reported and the queue keeps working', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const sent: string[] = [];
    const q = new DeliveryQueue({
      ready: (ids) => ids,
      claim: async (ids) => {
        if (fail) throw new Error('database busy');
        return new Map(ids.map((id) => [id, [delivery(id)]]));
      },
      send: (systemId) => sent.push(systemId),
      onError: (err) => errors.push(err),
    });
    q.request(['a']);
    await settle();
    expect(errors).toHaveLength(1);
    fail = false;
    q.request(['a']);
    await settle();
    expect(sent).toEqual(['a']);
  });
});
