import type { Kysely, Transaction } from 'kysely';
import { chunks } from '../chunks.js';
import type { Schema } from '../schema.js';

type Db = Kysely<Schema> | Transaction<Schema>;

/**
 * Keeps the live output of runs that ended `lost` with no output of their
 * own: the sweep ending a run whose agent vanished, or an agent that came
 * back without a copy of what its script printed. The chunks it streamed
 * become the run's stdout and stderr, so what a user saw live stays in the
 * run after it ends. Chunks are bounded already (the run lifecycle stops
 * storing them past twice the output cap), and a run that has any output of
 * its own keeps it.
 */
export async function keepStreamedOutput(tx: Db, runIds: string[]): Promise<void> {
  for (const part of chunks([...new Set(runIds)])) {
    const rows = await tx.selectFrom('run_chunks').select(['run_id', 'stream', 'data']).where('run_id', 'in', part).orderBy('run_id').orderBy('seq').execute();
    const output = new Map<string, { stdout: string; stderr: string }>();
    for (const r of rows) {
      const o = output.get(r.run_id) ?? { stdout: '', stderr: '' };
      if (r.stream === 'stderr') o.stderr += r.data;
      else o.stdout += r.data;
      output.set(r.run_id, o);
    }
    for (const [runId, o] of output) {
      await tx
        .updateTable('runs')
        .set({ stdout: o.stdout, stderr: o.stderr })
        .where('id', '=', runId)
        .where('state', '=', 'lost')
        .where('stdout', '=', '')
        .where('stderr', '=', '')
        .execute();
    }
  }
}
