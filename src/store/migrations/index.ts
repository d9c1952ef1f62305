import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-job-engine.js';
import * as m0003 from './0003-live-output.js';
import * as m0004 from './0004-scripts.js';
import * as m0005 from './0005-commands.js';
import * as m0006 from './0006-inventory.js';
import * as m0007 from './0007-ingest.js';
import * as m0009 from './0009-pdb-query.js';
import * as m0010 from './0010-facts-from-json.js';
import * as m0011 from './0011-ingest-payloads.js';
import * as m0014 from './0014-script-attributes.js';
import * as m0015 from './0015-sealed-secrets.js';
import * as m0016 from './0016-presence-leases.js';
import * as m0017 from './0017-run-env.js';
import * as m0018 from './0018-sessions.js';
import * as m0019 from './0019-integer-ids.js';
import * as m0020 from './0020-audit-requests.js';
import * as m0021 from './0021-webhooks.js';
import * as m0022 from './0022-replica-peers.js';

/**
 * Numbered, append-only migrations; one set for SQLite and PostgreSQL. A new
 * migration is a new file added at the end of this table, never an edit.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': m0001,
  '0002-job-engine': m0002,
  '0003-live-output': m0003,
  '0004-scripts': m0004,
  '0005-commands': m0005,
  '0006-inventory': m0006,
  '0007-ingest': m0007,
  '0009-pdb-query': m0009,
  '0010-facts-from-json': m0010,
  '0011-ingest-payloads': m0011,
  '0014-script-attributes': m0014,
  '0015-sealed-secrets': m0015,
  '0016-presence-leases': m0016,
  '0017-run-env': m0017,
  '0018-sessions': m0018,
  '0019-integer-ids': m0019,
  '0020-audit-requests': m0020,
  '0021-webhooks': m0021,
  '0022-replica-peers': m0022,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
