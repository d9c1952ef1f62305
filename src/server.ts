import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import pino, { type Logger } from 'pino';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { buildApp } from './app.js';
import type { RouteAuth } from './faces/face.js';
import { systemClock, type Clock } from './core/clock.js';
import { createCore } from './core/index.js';
import { AuditSweeper } from './core/audit/index.js';
import { JobSweeper } from './core/jobs/index.js';
import { Scheduler } from './core/schedules/scheduler.js';
import { parseListen, type ServerConfig } from './config/server.js';
import { AgentHub, type AgentHubOptions } from './hub/agent-hub.js';
import { hubMetrics } from './hub/metrics.js';
import { createStores, discardFiles, migrate } from './store/index.js';
import { DEFAULT_WORKER_OPTIONS, IngestWorkers } from './core/ingest/index.js';
import { readFileSync } from 'node:fs';
import { MusterError } from './core/errors.js';
import { VERSION } from './version.js';
import { openDatabase } from './server-database.js';
import { openSecretKeyring, prepareDataDir } from './server-secrets.js';

/** Audit events deleted per statement past retention: a few milliseconds of SQLite's one writer each. */
const AUDIT_SWEEP_BATCH = 1000;

/** Wake-channel topic: a system was deleted (payload: its id). */
const SYSTEM_REMOVED = 'system.removed';

export interface RunningServer {
  url: string;
  /** How each route of each face authenticates (src/faces/face.ts). */
  routeAuth(): RouteAuth[];
  stop(): Promise<void>;
}

/** Writes a secret the operator needs, readable by the owner only. */
function writeSecret(dir: string, name: string, secret: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, name);
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return path;
}

/**
 * The composition root of `muster server`: database, core, hub, HTTP app.
 * Stops in reverse order.
 */
export async function startServer(
  config: ServerConfig,
  logger: Logger = pino({ level: config.log_level }),
  options: { scheduleClock?: Clock; auditClock?: Clock; hub?: Pick<AgentHubOptions, 'replicaId' | 'pollIntervalMs' | 'leaseMs' | 'renewIntervalMs'> } = {},
): Promise<RunningServer> {
  // The data dir (0700) and its checks come first, before SQLite or a key file is created in it.
  const dataDir = prepareDataDir(config, logger);
  const database = await openDatabase(config, logger);
  let secrets;
  try {
    await migrate(database.db);
    secrets = await openSecretKeyring(config, dataDir, database, logger);
  } catch (err) {
    await database.close();
    throw err;
  }
  const stores = createStores(database, { secrets });
  let hub: AgentHub | undefined;
  const core = createCore({
    stores,
    clock: systemClock,
    notifier: { runsCreated: (ids) => hub?.runsCreated(ids), cancelRuns: (runs) => hub?.cancelRuns(runs) },
    limits: { scriptBytes: config.script_max_bytes, outputBytes: config.output_max_bytes },
    lostGraceS: config.lost_grace_s,
    onBackgroundError: (err, context) =>
      logger.warn({ err, ...context }, context.during === 'a transition subscriber' ? 'a transition subscriber failed' : 'a background launch failed'),
    ingestWaker: database.wake,
    sessionLink: () => hub?.sessions,
  });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const transitions = new Counter({
    name: 'muster_transitions_total',
    help: 'Run and job transitions committed on this replica',
    labelNames: ['kind', 'to', 'reason'],
    registers: [registry],
  });
  core.transitions.subscribe((batch) => {
    for (const t of batch) transitions.inc({ kind: t.kind, to: t.to, reason: t.reason });
  });
  // Tests pin the replica id and shorten the sweep and leases; a server names itself at random.
  hub = new AgentHub({
    core,
    logger: logger.child({ component: 'hub' }),
    metrics: hubMetrics(registry),
    wake: database.wake,
    ...(config.replica_id ? { replicaId: config.replica_id } : {}),
    ...options.hub,
  });
  // A deleted system's agent is disconnected here, and on the other replicas through the wake channel.
  core.systems.onRemoved((id) => {
    hub?.disconnect(id);
    database.wake?.publish(SYSTEM_REMOVED, id).catch((err: unknown) => logger.warn({ err }, 'could not tell other replicas about a deleted system'));
  });
  database.wake?.subscribe((topic, payload) => {
    if (topic === SYSTEM_REMOVED) hub?.disconnect(payload);
  });
  const sweeper = new JobSweeper(
    stores.jobs,
    { runsCreated: (ids) => hub.runsCreated(ids), cancelRuns: (runs) => hub.cancelRuns(runs) },
    systemClock,
    config.sweep_interval_ms,
    (err) => logger.warn({ err }, 'sweeping runs failed; will retry'),
    core.transitions,
  );

  const boot = await core.organizations.bootstrap({ apiKey: config.bootstrap_api_key, enrollmentKey: config.bootstrap_enrollment_key });
  if (boot.created) announceKeys(config.data_dir, boot.created, Boolean(config.bootstrap_api_key), Boolean(config.bootstrap_enrollment_key));
  // A single node knows nobody is connected yet; replicas keep each other's leases.
  if (!database.capabilities.supportsReplicas) await stores.systems.clearConnections();
  if (!database.capabilities.supportsReplicas) await stores.ingestQueue.releaseLeases();
  // Nor is any shell: a single node's sessions lived on its own connections.
  if (!database.capabilities.supportsReplicas) await core.sessions.endUnfinished();

  const app = await buildApp({
    core,
    hub,
    logger,
    registry,
    signatures: { systems: core.systems, replay: stores.replay, clock: systemClock, skewMs: config.signature_skew_s * 1000 },
    ready: async () => {
      await sql`select 1`.execute(database.db);
    },
    bodyLimit: config.body_limit_bytes,
    trustProxy: config.trust_proxy,
    version: VERSION,
    tls: readTls(config),
    pdb: { auth: config.pdb_auth, organization: config.pdb_organization, maxCommandBytes: config.ingest_max_command_bytes },
    rateLimit: { max: config.rate_limit_max, windowMs: config.rate_limit_window_s * 1000 },
    metricsToken: config.metrics_token,
  });
  const { host, port } = parseListen(config.listen);
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    await database.close();
    throw err;
  }
  hub.start();
  sweeper.start();
  // Tests inject a clock to move schedules without waiting for them.
  const scheduler = new Scheduler(stores.scripts, core.scripts, options.scheduleClock ?? systemClock, config.schedule_interval_ms, {
    fired: (script, jobId, slot) => logger.info({ script: script.id, job: jobId, slot }, 'scheduled command fired'),
    error: (err, context) => logger.warn({ err, ...context }, 'a scheduled command could not launch'),
  });
  scheduler.start();
  const ingestWorkers = new IngestWorkers(
    stores.ingestQueue,
    core.ingest,
    systemClock,
    {
      ...DEFAULT_WORKER_OPTIONS,
      count: config.ingest_workers,
      batch: config.ingest_batch,
      batchBytes: config.ingest_batch_bytes,
      pollMs: config.ingest_poll_ms,
      maxAttempts: config.ingest_max_attempts,
      leaseMs: config.ingest_lease_ms,
      keepDoneMs: config.ingest_keep_done_s * 1000,
    },
    discardFiles(join(resolve(config.data_dir), 'mq')),
    (err) => logger.warn({ err }, 'ingest processing failed; will retry'),
  );
  ingestWorkers.start();
  const auditSweeper = new AuditSweeper(stores.audit, options.auditClock ?? systemClock, {
    retentionDays: config.audit_retention_days,
    intervalMs: config.audit_sweep_interval_s * 1000,
    batch: AUDIT_SWEEP_BATCH,
    onError: (err) => logger.warn({ err }, 'deleting audit events past retention failed; will retry'),
  });
  auditSweeper.start();
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const url = `${config.tls_cert ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  logger.info({ url, database: database.capabilities.name, version: VERSION }, 'muster server listening');

  let stopping: Promise<void> | undefined;
  return {
    url,
    routeAuth: () => app.routeAuth,
    stop: () =>
      (stopping ??= (async () => {
        logger.info('shutting down');
        await auditSweeper.stop();
        await ingestWorkers.stop();
        await scheduler.stop();
        await sweeper.stop();
        await hub.stop();
        await app.close();
        await database.close();
        logger.info('stopped');
      })()),
  };
}

/** The HTTPS material, when configured (both files, or neither). */
function readTls(config: ServerConfig): { cert: Buffer; key: Buffer; ca?: Buffer } | undefined {
  if (!config.tls_cert && !config.tls_key) return undefined;
  if (!config.tls_cert || !config.tls_key) throw new MusterError('INVALID_ARGUMENT', 'tls_cert and tls_key: give both or neither', { field: 'tls_cert' });
  return {
    cert: readFileSync(config.tls_cert),
    key: readFileSync(config.tls_key),
    ...(config.tls_client_ca ? { ca: readFileSync(config.tls_client_ca) } : {}),
  };
}

function announceKeys(dataDir: string, created: { apiKey: string; enrollmentKey: string }, apiGiven: boolean, enrollGiven: boolean): void {
  const dir = resolve(dataDir);
  const apiPath = writeSecret(dir, 'admin-api-key', created.apiKey);
  const enrollPath = writeSecret(dir, 'enrollment-key', created.enrollmentKey);
  const lines = [
    '',
    'muster: created the default organization.',
    `  admin API key:   ${apiGiven ? '(from MUSTER_BOOTSTRAP_API_KEY)' : created.apiKey}`,
    `                   saved to ${apiPath} (mode 0600)`,
    `  enrollment key:  ${enrollGiven ? '(from MUSTER_BOOTSTRAP_ENROLLMENT_KEY)' : created.enrollmentKey}`,
    `                   saved to ${enrollPath} (mode 0600)`,
    '  These are shown once; the server keeps only their hashes.',
    '',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}
