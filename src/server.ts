import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import pino, { type Logger } from 'pino';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { buildApp } from './app.js';
import type { RouteAuth } from './faces/face.js';
import { systemClock, type Clock } from './core/clock.js';
import { randomBytes } from 'node:crypto';
import { createCore, type Core, type CoreStores as Stores } from './core/index.js';
import { AuditSweeper } from './core/audit/index.js';
import { JobSweeper } from './core/jobs/index.js';
import { Scheduler } from './core/schedules/scheduler.js';
import { parseListen, type ServerConfig } from './config/server.js';
import { AgentHub, type AgentHubOptions } from './hub/agent-hub.js';
import { hubMetrics } from './hub/metrics.js';
import { createStores, discardFiles, migrate, type Database, type WakeChannel } from './store/index.js';
import { DEFAULT_WORKER_OPTIONS, IngestWorkers } from './core/ingest/index.js';
import { readFileSync } from 'node:fs';
import { MusterError } from './core/errors.js';
import type { SecretKeyring } from './lib/secret-box.js';
import { VERSION } from './version.js';
import { openDatabase } from './server-database.js';
import { openSecretKeyring, prepareDataDir } from './server-secrets.js';
import { serverMetrics } from './server-metrics.js';
import { metricsStore } from './store/index.js';
import { DeliveryWorker, fetchSender } from './core/webhooks/index.js';

/** The log message of a background failure, by what it happened during (the rest are run-on-enroll launches). */
const BACKGROUND_FAILURES: Record<string, string> = {
  'a transition subscriber': 'a transition subscriber failed',
  'queueing webhook deliveries': 'webhook deliveries could not be queued; those events are not sent',
};

/** Audit events deleted per statement past retention: a few milliseconds of SQLite's one writer each. */
const AUDIT_SWEEP_BATCH = 1000;

/** Wake-channel topic: a system was deleted (payload: its id). */
const SYSTEM_REMOVED = 'system.removed';
/** Wake-channel topic: runs or their output changed here (live streams elsewhere re-read). */
const STREAMS_CHANGED = 'streams';
const STREAM_RELAY_MS = 50;

/** `fn` at most once per `ms`: a call within the window schedules one more call at its end. */
function throttled(ms: number, fn: () => unknown): () => void {
  let last = 0;
  let pending: NodeJS.Timeout | undefined;
  return () => {
    if (pending) return;
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn();
      return;
    }
    pending = setTimeout(() => {
      pending = undefined;
      last = Date.now();
      fn();
    }, wait);
    pending.unref();
  };
}

/** How a worker of `muster server --workers N` runs (src/server-cluster.ts): its place, and the wake-ups between its siblings on SQLite. */
export interface WorkerRole {
  index: number;
  /** The siblings' wake-up channel where the database has none of its own (SQLite); PostgreSQL's NOTIFY serves otherwise. */
  wake: WakeChannel | undefined;
  /** Told once this worker listens. */
  listening(url: string, replicaId: string): void;
  /** Every worker's metrics, summed by the primary: a scrape reaches one worker, and answers for all. */
  metrics(registry: Registry): () => Promise<string>;
}

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
  options: {
    scheduleClock?: Clock;
    auditClock?: Clock;
    hub?: Pick<AgentHubOptions, 'replicaId' | 'pollIntervalMs' | 'leaseMs' | 'renewIntervalMs'>;
    worker?: WorkerRole;
  } = {},
): Promise<RunningServer> {
  const { database, stores, secrets } = await openStorage(config, logger);
  const { worker } = options;
  const wake = database.wake ?? worker?.wake;
  let hub: AgentHub | undefined;
  const core = createCore({
    stores,
    clock: systemClock,
    notifier: { runsCreated: (ids) => hub?.runsCreated(ids), cancelRuns: (runs) => hub?.cancelRuns(runs) },
    limits: { scriptBytes: config.script_max_bytes, outputBytes: config.output_max_bytes },
    lostGraceS: config.lost_grace_s,
    onBackgroundError: (err, context) => logger.warn({ err, ...context }, BACKGROUND_FAILURES[String(context.during)] ?? 'a background launch failed'),
    ingestWaker: wake,
    sessionLink: () => hub?.sessions,
    webhookOptions: {
      maxPerOrganization: config.webhook_max_per_organization,
      retryWindowMs: config.webhook_retry_window_s * 1000,
      allowPrivateAddresses: config.webhook_allow_private_addresses,
    },
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
  const metrics = serverMetrics(registry, core, metricsStore(database.db), logger);
  // Tests pin the replica id and shorten the sweep and leases; a server names itself at random.
  hub = new AgentHub({
    core,
    logger: logger.child({ component: 'hub' }),
    metrics: hubMetrics(registry),
    wake,
    ...replicaIdOf(config, worker),
    peers: peersOf(config, worker, secrets),
    ...options.hub,
  });
  // A deleted system's agent is disconnected here, and on the other replicas through the wake channel.
  core.systems.onRemoved((id) => {
    hub?.disconnect(id);
    wake?.publish(SYSTEM_REMOVED, id).catch((err: unknown) => logger.warn({ err }, 'could not tell other replicas about a deleted system'));
  });
  wake?.subscribe((topic, payload) => {
    if (topic === SYSTEM_REMOVED) hub?.disconnect(payload);
    if (topic === STREAMS_CHANGED) core.streamWakeup.wakeLocal();
  });
  // Live streams on the other replicas see output stored here at once instead of at their next poll,
  // with at most one wake-up per STREAM_RELAY_MS however fast output arrives.
  if (wake) core.streamWakeup.relayTo(throttled(STREAM_RELAY_MS, () => wake.publish(STREAMS_CHANGED, '').catch(() => undefined)));
  const sweeper = new JobSweeper(
    stores.jobs,
    { runsCreated: (ids) => hub.runsCreated(ids), cancelRuns: (runs) => hub.cancelRuns(runs) },
    systemClock,
    config.sweep_interval_ms,
    (err) => logger.warn({ err }, 'sweeping runs failed; will retry'),
    core.transitions,
  );

  // The cluster's primary did this before forking; a worker's siblings hold leases it must not clear.
  if (!worker) await firstStart(config, core, stores, database);

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
    metricsText: worker?.metrics(registry),
  });
  const { host, port } = parseListen(config.listen);
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    await database.close();
    throw err;
  }
  await hub.start();
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
    (outcome, record, error, at) => {
      metrics.ingest(outcome, record, error, at);
      if (outcome === 'discarded') core.webhookEvents.ingestDiscarded(record, error ?? 'discarded', at);
    },
  );
  ingestWorkers.start();
  const webhookWorker = new DeliveryWorker(
    stores.webhooks,
    core.webhooks,
    fetchSender(config.webhook_allow_private_addresses),
    systemClock,
    {
      concurrency: config.webhook_concurrency,
      pollMs: config.webhook_poll_ms,
      timeoutMs: config.webhook_timeout_s * 1000,
      backoff: { baseMs: config.webhook_backoff_base_ms, maxMs: config.webhook_backoff_max_ms },
      userAgent: `muster/${VERSION}`,
      keepMs: config.webhook_log_keep_days * 86_400_000,
    },
    (err) => logger.warn({ err }, 'a webhook delivery could not be recorded; it will be retried'),
    metrics.webhooks,
  );
  webhookWorker.start();
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
  if (worker) {
    worker.listening(url, hub.replicaId);
    logger.info({ url, replica: hub.replicaId }, 'worker listening');
  } else logger.info({ url, database: database.capabilities.name, version: VERSION }, 'muster server listening');

  let stopping: Promise<void> | undefined;
  return {
    url,
    routeAuth: () => app.routeAuth,
    stop: () =>
      (stopping ??= (async () => {
        logger.info('shutting down');
        // The listener closes first (a load balancer then sends new connections to the siblings), while the
        // requests in flight, and any that come on connections already open, are served with the database
        // still open; then the background work stops, the agents are handed over, and the database closes.
        const closing = app.close();
        await webhookWorker.stop();
        await auditSweeper.stop();
        await ingestWorkers.stop();
        await scheduler.stop();
        await sweeper.stop();
        await hub.stop();
        await closing;
        // Events of the last transitions reach the outbox before the database closes; the next start sends them.
        await core.webhookEvents.drain();
        await database.close();
        await worker?.wake?.close();
        logger.info('stopped');
      })()),
  };
}

/** The data dir (0700, checked first, before SQLite or a key file is created in it), the migrated database and its stores. */
export async function openStorage(config: ServerConfig, logger: Logger): Promise<{ database: Database; stores: Stores; secrets: SecretKeyring }> {
  const dataDir = prepareDataDir(config, logger);
  const database = await openDatabase(config, logger);
  try {
    await migrate(database.db);
    const secrets = await openSecretKeyring(config, dataDir, database, logger);
    return { database, stores: createStores(database, { secrets }), secrets };
  } catch (err) {
    await database.close();
    throw err;
  }
}

/**
 * What the first process over a database does before serving: the default
 * organization and its keys, and on a single node (SQLite) the end of what
 * the previous process held, since nobody is connected to a server that was
 * not running and no shell outlived it. Replicas keep each other's leases.
 */
export async function firstStart(config: ServerConfig, core: Core, stores: Stores, database: Database): Promise<void> {
  const boot = await core.organizations.bootstrap({ apiKey: config.bootstrap_api_key, enrollmentKey: config.bootstrap_enrollment_key });
  if (boot.created) announceKeys(config.data_dir, boot.created, Boolean(config.bootstrap_api_key), Boolean(config.bootstrap_enrollment_key));
  if (database.capabilities.supportsReplicas) return;
  await stores.systems.clearConnections();
  await stores.ingestQueue.releaseLeases();
  await core.sessions.endUnfinished();
}

/**
 * Where this replica listens for its peers (sessions across replicas): a
 * worker of `--workers N` on a loopback port of its own; a replica on
 * PostgreSQL where `peer_listen` says; a single server nowhere.
 */
function peersOf(config: ServerConfig, worker: WorkerRole | undefined, keyring: SecretKeyring): AgentHubOptions['peers'] {
  const listen = config.peer_listen ?? (worker ? '127.0.0.1:0' : undefined);
  if (!listen) return undefined;
  return { keyring, listen: parseListen(listen), advertise: config.peer_url };
}

/** The hub's replica id: the configured one (with the worker's index under `--workers`), else a random one (tests pin theirs). */
function replicaIdOf(config: ServerConfig, worker: WorkerRole | undefined): { replicaId?: string } {
  if (!worker) return config.replica_id ? { replicaId: config.replica_id } : {};
  return { replicaId: `${config.replica_id ?? randomBytes(6).toString('hex')}-w${worker.index}` };
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
