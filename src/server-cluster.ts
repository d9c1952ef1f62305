import cluster, { type Worker } from 'node:cluster';
import pino, { type Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { systemClock } from './core/clock.js';
import { createCore } from './core/index.js';
import { WORKER_INDEX_ENV, workerIndex, type ServerConfig } from './config/server.js';
import { Backoff } from './lib/backoff.js';
import { firstStart, openStorage, startServer, type RunningServer } from './server.js';
import type { WakeChannel } from './store/index.js';
import { VERSION } from './version.js';

/**
 * `muster server --workers N`: N server processes on one machine, forked by
 * node:cluster, sharing the listening port (the primary hands each new
 * connection to the next worker in turn) and the database. Each worker is a
 * replica as several servers on one PostgreSQL are: it holds its own agents
 * under its own replica id, and a job launched on one reaches the agents of
 * the others through the wake-up channel (NOTIFY on PostgreSQL; on SQLite,
 * messages relayed by the primary), with every claim made in the database.
 *
 * On SQLite the workers share the one file in WAL mode, and SQLite's write
 * lock is the single writer queue: every transaction begins immediate, so a
 * worker waits its turn (busy_timeout) instead of failing, and each commit's
 * fsync stays off the event loop as before. One process owning all writes
 * would put an IPC hop and a copy of every result between the agent and the
 * disk, for the lock SQLite already provides.
 *
 * The primary opens the database first (migrations, the default
 * organization, the end of what a previous run held), then forks; it forks a
 * worker again when one dies, after releasing the presence leases of the
 * dead one's agents, which reconnect to a sibling meanwhile.
 */

interface WakeMessage {
  muster: 'wake';
  topic: string;
  payload: string;
}

/** A worker asks the primary for every worker's metrics (`id` pairs the answer with the scrape). */
interface MetricsMessage {
  muster: 'metrics';
  id: number;
  text?: string;
  error?: string;
}

interface ListeningMessage {
  muster: 'listening';
  url: string;
  replicaId: string;
}

type ClusterMessage = WakeMessage | ListeningMessage | MetricsMessage;

function isClusterMessage(value: unknown): value is ClusterMessage {
  return typeof value === 'object' && value !== null && typeof (value as { muster?: unknown }).muster === 'string';
}

/** A worker that stays up this long has its restart backoff reset. */
const STABLE_MS = 60_000;

/** Starts the primary (when this process is it) or a worker of `muster server --workers N`. */
export async function startClustered(config: ServerConfig, logger: Logger = pino({ level: config.log_level })): Promise<RunningServer> {
  if (cluster.isPrimary) return startPrimary(config, logger);
  const index = workerIndex();
  const workerLogger = logger.child({ worker: index });
  return startServer(config, workerLogger, {
    worker: {
      index,
      wake: config.database_url ? undefined : ipcWake(),
      listening: (url, replicaId) => process.send?.({ muster: 'listening', url, replicaId } satisfies ListeningMessage),
      metrics: clusterMetrics,
    },
  });
}

/**
 * /metrics in a worker: the primary collects every worker's registry through
 * prom-client's cluster support and sums them, so the answer does not depend
 * on which worker the scrape reached.
 */
function clusterMetrics(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one is what makes prom-client answer the primary's requests in this worker.
  new AggregatorRegistry();
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();
  let next = 0;
  process.on('message', (message: unknown) => {
    if (!isClusterMessage(message) || message.muster !== 'metrics') return;
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.text !== undefined) pending?.resolve(message.text);
    else pending?.reject(new Error(message.error ?? 'the primary could not collect the metrics'));
  });
  return () =>
    new Promise((resolve, reject) => {
      if (!process.send || !process.connected) return reject(new Error('the cluster primary is gone'));
      const id = next++;
      waiting.set(id, { resolve, reject });
      process.send({ muster: 'metrics', id } satisfies MetricsMessage);
    });
}

/** The siblings' wake-ups over the IPC channel to the primary, which relays each to every other worker. */
function ipcWake(): WakeChannel {
  const handlers: Array<(topic: string, payload: string) => void> = [];
  const receive = (message: unknown) => {
    if (!isClusterMessage(message) || message.muster !== 'wake') return;
    for (const handler of handlers) handler(message.topic, message.payload);
  };
  process.on('message', receive);
  return {
    publish: (topic, payload) =>
      new Promise((resolve, reject) => {
        if (!process.send || !process.connected) return reject(new Error('the cluster primary is gone'));
        process.send({ muster: 'wake', topic, payload } satisfies WakeMessage, undefined, {}, (err) => (err ? reject(err) : resolve()));
      }),
    subscribe: (handler) => void handlers.push(handler),
    close: async () => void process.off('message', receive),
  };
}

async function startPrimary(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  const { database, stores } = await openStorage(config, logger);
  const core = createCore({
    stores,
    clock: systemClock,
    notifier: { runsCreated: () => {}, cancelRuns: () => {} },
    limits: { scriptBytes: config.script_max_bytes, outputBytes: config.output_max_bytes },
    lostGraceS: config.lost_grace_s,
    onBackgroundError: (err) => logger.warn({ err }, 'a background task failed'),
    ingestWaker: undefined,
    sessionLink: () => undefined,
  });
  try {
    await firstStart(config, core, stores, database);
  } catch (err) {
    await database.close();
    throw err;
  }

  const replicas = new Map<Worker, string>();
  const slots: Array<Worker | undefined> = [];
  let stopping = false;
  let url = '';
  let ready!: () => void;
  let failed!: (err: Error) => void;
  const allListening = new Promise<void>((resolve, reject) => ((ready = resolve), (failed = reject)));
  const backoff = new Backoff({ baseMs: 500, maxMs: 30_000 });
  const aggregator = new AggregatorRegistry();
  const answerMetrics = (worker: Worker, id: number) =>
    aggregator.clusterMetrics().then(
      (text) => worker.isConnected() && worker.send({ muster: 'metrics', id, text } satisfies MetricsMessage),
      (err: Error) => worker.isConnected() && worker.send({ muster: 'metrics', id, error: err.message } satisfies MetricsMessage),
    );

  const fork = (index: number) => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index) });
    const forkedAt = Date.now();
    slots[index] = worker;
    worker.on('message', (message: unknown) => {
      if (!isClusterMessage(message)) return;
      if (message.muster === 'wake') {
        for (const sibling of slots) if (sibling && sibling !== worker && sibling.isConnected()) sibling.send(message);
        return;
      }
      if (message.muster === 'metrics') return void answerMetrics(worker, message.id);
      replicas.set(worker, message.replicaId);
      url = message.url;
      if (slots.every((w) => w && replicas.has(w))) ready();
    });
    worker.on('exit', (code, signal) => {
      const replicaId = replicas.get(worker);
      replicas.delete(worker);
      if (slots[index] === worker) slots[index] = undefined;
      if (stopping) return;
      if (!url) return failed(new Error(`worker ${index} exited (${signal ?? code}) before listening`));
      logger.error({ worker: index, pid: worker.process.pid, code, signal }, 'a worker died; starting another');
      if (replicaId) {
        stores.systems
          .releaseReplica(replicaId, new Date().toISOString())
          .catch((err: unknown) => logger.warn({ err }, "could not release a dead worker's presence leases; they expire"));
      }
      if (Date.now() - forkedAt > STABLE_MS) backoff.reset();
      setTimeout(() => !stopping && fork(index), backoff.next()).unref();
    });
  };
  for (let i = 0; i < config.workers; i++) fork(i);
  try {
    await allListening;
  } catch (err) {
    stopping = true;
    for (const worker of slots) worker?.kill('SIGTERM');
    await database.close();
    throw err;
  }
  logger.info({ url, database: database.capabilities.name, version: VERSION, workers: config.workers }, 'muster server listening');

  let stopped: Promise<void> | undefined;
  return {
    url,
    routeAuth: () => [],
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        logger.info('shutting down the workers');
        const exits = slots
          .filter((w): w is Worker => w !== undefined)
          .map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
        for (const worker of slots) if (worker?.isConnected()) worker.send({ muster: 'stop' });
        await Promise.all(exits);
        await database.close();
        logger.info('stopped');
      })()),
  };
}
