import type { CoreStores } from '../core/index.js';
import type { Database } from './dialect.js';
import { auditStore } from './repos/audit.js';
import { commandResultStore } from './repos/command-results.js';
import { triggerStore } from './repos/triggers.js';
import { ephemeralKeyring, type SecretKeyring } from '../lib/secret-box.js';
import { groupStore } from './repos/groups.js';
import { jobStore } from './repos/jobs.js';
import { keyStore } from './repos/keys.js';
import { organizationStore } from './repos/organizations.js';
import { scriptStore } from './repos/scripts.js';
import { systemStore } from './repos/systems.js';
import { systemUserStore } from './repos/users.js';
import { replayStore } from './repos/replay.js';
import { sessionStore } from './repos/sessions.js';
import { attributeStore } from './repos/attributes.js';
import { integerIdStore } from './repos/integer-ids.js';
import { ingestDataStore, ingestQueueStore } from './ingest/index.js';
import { webhookStore } from './repos/webhooks.js';

import { attachTicketStore, replicaPeerStore } from './repos/replica-peers.js';
export { migrate, type Database, type DialectCapabilities, type WakeChannel } from './dialect.js';
export { discardFiles } from './ingest/index.js';
export { sealTriggerSecrets, type SealingReport } from './repos/triggers.js';

/**
 * The repositories core needs, over one open database. `secrets` seals
 * trigger and webhook secrets at rest; without one (tests, tools) the key lives as long
 * as the process.
 */
export function createStores(database: Database, options: { secrets?: SecretKeyring } = {}): CoreStores {
  const { db, capabilities, deferredSync } = database;
  const secrets = options.secrets ?? ephemeralKeyring();
  return {
    organizations: organizationStore(db),
    keys: keyStore(db),
    systems: { ...systemStore(db), ...replicaPeerStore(db) },
    jobs: jobStore(db, capabilities),
    scripts: scriptStore(db),
    audit: auditStore(db),
    groups: groupStore(db),
    users: systemUserStore(db),
    replay: replayStore(db),
    ingestQueue: ingestQueueStore(db, capabilities, deferredSync),
    ingestData: ingestDataStore(db, capabilities),
    triggers: triggerStore(db, secrets),
    commandResults: commandResultStore(db),
    sessions: { ...sessionStore(db), ...attachTicketStore(db) },
    attributes: attributeStore(db),
    numbers: integerIdStore(db),
    webhooks: webhookStore(db, capabilities, secrets),
  };
}
export { metricsStore, type MetricsStore } from './repos/metrics.js';
