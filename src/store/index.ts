import type { CoreStores } from '../core/index.js';
import type { Database } from './dialect.js';
import { auditSink } from './repos/audit.js';
import { jobStore } from './repos/jobs.js';
import { keyStore } from './repos/keys.js';
import { organizationStore } from './repos/organizations.js';
import { scriptStore } from './repos/scripts.js';
import { systemStore } from './repos/systems.js';
import { replayStore, type ReplayStore } from './repos/replay.js';

export { migrate, type Database, type DialectCapabilities, type WakeChannel } from './dialect.js';
export type { ReplayStore } from './repos/replay.js';

/** The repositories core needs, over one open database. */
export function createStores(database: Database): CoreStores & { replay: ReplayStore } {
  const { db, capabilities } = database;
  return {
    organizations: organizationStore(db),
    keys: keyStore(db),
    systems: systemStore(db),
    jobs: jobStore(db, capabilities),
    scripts: scriptStore(db),
    audit: auditSink(db),
    replay: replayStore(db),
  };
}
