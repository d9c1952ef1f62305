import type { Kysely } from 'kysely';
import type { ReplayGuard } from '../../core/commands/index.js';
import type { Schema } from '../schema.js';

/** Remembers used signatures until they expire, across replicas (it lives in the database). */
/** Used-signature memory on Kysely. */
export function replayStore(db: Kysely<Schema>): ReplayGuard {
  let lastSweep = 0;
  return {
    async remember(digest, expiresAt, now) {
      // Expired rows are swept at most once a minute, not on every request.
      if (Date.now() - lastSweep > 60_000) {
        lastSweep = Date.now();
        await db.deleteFrom('used_signatures').where('expires_at', '<', now).execute();
      }
      const r = await db
        .insertInto('used_signatures')
        .values({ digest, expires_at: expiresAt })
        .onConflict((oc) => oc.column('digest').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },
  };
}
