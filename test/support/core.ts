import { generateKeyPairSync } from 'node:crypto';
import { createCore, type Actor, type Core, type CoreStores } from '../../src/core/index.js';
import type { Clock } from '../../src/core/clock.js';
import type { Delivery, RunRef } from '../../src/core/jobs/index.js';
import type { AgentResult } from '../../src/core/jobs/run-lifecycle.js';
import { createStores, type Database } from '../../src/store/index.js';
import { openMigrated, type TestDatabase } from './databases.js';
import type { SecretKeyring } from '../../src/lib/secret-box.js';

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(public current = new Date('2026-11-23T12:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface CoreFixture {
  core: Core;
  /** The stores the core was built over (one keyring: a second createStores could not open their sealed secrets). */
  stores: CoreStores;
  clock: FakeClock;
  database: Database;
  test: TestDatabase;
  admin: Actor;
  enrollmentKey: string;
  notified: string[][];
  cancelled: RunRef[];
  close(): Promise<void>;
}

/** A real core over a fresh migrated database, bootstrapped, with a fake clock. */
export async function coreFixture(name: 'sqlite' | 'postgres', options: { secrets?: SecretKeyring } = {}): Promise<CoreFixture> {
  const { database, test } = await openMigrated(name);
  const clock = new FakeClock();
  const notified: string[][] = [];
  const cancelled: RunRef[] = [];
  const stores = createStores(database, options);
  const core = createCore({
    stores,
    clock,
    notifier: { runsCreated: (ids) => notified.push(ids), cancelRuns: (runs) => cancelled.push(...runs) },
    limits: { scriptBytes: 1024 * 1024, outputBytes: 1024 * 1024 },
  });
  const boot = await core.organizations.bootstrap({});
  const admin = await core.keys.authenticate(boot.created!.apiKey);
  return {
    core,
    stores,
    clock,
    database,
    test,
    admin,
    notified,
    cancelled,
    enrollmentKey: boot.created!.enrollmentKey,
    close: async () => {
      await database.close();
      await test.drop();
    },
  };
}

/**
 * What an agent connecting now is handed, asked as the hub's run channel asks:
 * the runs marked delivered that it says it does not have (when it says what
 * it has), then its pending runs, claimed now.
 */
export async function deliver(core: Core, systemId: string, agentActive?: string[]): Promise<Delivery[]> {
  const resend = agentActive ? await core.runs.undelivered(systemId, agentActive) : [];
  return [...resend, ...((await core.runs.deliverableBatch([systemId])).get(systemId) ?? [])];
}

/** An RSA public key as an agent would present it. */
export function agentPublicKey(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

export const FACTS = {
  hostname: 'web-1',
  os: 'linux',
  os_release: 'Debian GNU/Linux 12',
  arch: 'x64',
  ip_addresses: ['10.0.0.5'],
  agent_version: '0.1.0',
};

/** An agent's result for a script that exited with `code` just now, having printed `stdout`. */
export function exited(runId: string, code: number, stdout = ''): AgentResult {
  const at = new Date().toISOString();
  return {
    run_id: runId,
    outcome: 'exited',
    exit_code: code,
    signal: null,
    started_at: at,
    finished_at: at,
    stdout,
    stderr: '',
    stdout_truncated: false,
    stderr_truncated: false,
    error: null,
  };
}
