import Type, { type Static } from 'typebox';
import { SECRET_KEY_PATTERN, SECRET_KEYS_PATTERN } from '../lib/secret-box.js';
import { loadConfig, LogLevel, type EnvBinding } from './load.js';

const MiB = 1024 * 1024;

/** The server's configuration: one schema, parsed once, frozen. */
export const ServerConfigSchema = Type.Object(
  {
    listen: Type.String({
      pattern: '^(\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$',
      default: '127.0.0.1:8080',
      description: 'HOST:PORT to listen on (loopback by default)',
    }),
    data_dir: Type.String({ minLength: 1, default: './muster-data', description: 'Where SQLite, key files and spools live' }),
    database_url: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL URL; SQLite in data_dir when absent' })),
    log_level: LogLevel,
    body_limit_bytes: Type.Integer({ minimum: 1024, default: MiB }),
    script_max_bytes: Type.Integer({ minimum: 1, default: MiB }),
    output_max_bytes: Type.Integer({ minimum: 1024, default: MiB }),
    signature_skew_s: Type.Integer({ minimum: 1, maximum: 3600, default: 300 }),
    trust_proxy: Type.Union([Type.Boolean(), Type.String()], {
      default: false,
      description: 'Fastify trustProxy: true, or a comma-separated list of proxy addresses/CIDRs',
    }),
    bootstrap_api_key: Type.Optional(Type.String({ minLength: 20 })),
    bootstrap_enrollment_key: Type.Optional(Type.String({ minLength: 20 })),
    shutdown_timeout_s: Type.Integer({ minimum: 1, default: 10 }),
    pg_pool_size: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
    replica_id: Type.Optional(
      Type.String({
        pattern: '^[\\w.-]{1,64}$',
        description:
          "This replica's id among the servers sharing one PostgreSQL (shown as the holder of each agent's connection); random per process when unset",
      }),
    ),
    workers: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 1,
      description:
        'Server processes on this machine, sharing the listening port (node:cluster) and the database; each holds its own agents, and jobs reach the agents of every one',
    }),
    peer_listen: Type.Optional(
      Type.String({
        pattern: '^(\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$',
        description:
          'HOST:PORT where this replica listens for the other replicas, so that a shell session opened or attached through one reaches the agent another holds; a worker of --workers uses a loopback port of its own when unset',
      }),
    ),
    peer_url: Type.Optional(
      Type.String({ pattern: '^wss?://', description: 'The ws:// address the other replicas use to reach peer_listen, when not the address listened on' }),
    ),
    pg_statement_timeout_ms: Type.Integer({
      minimum: 0,
      maximum: 3_600_000,
      default: 30_000,
      description:
        'PostgreSQL: reads outside a transaction (what requests ask: selectors, PuppetDB queries, listings) are stopped after this long; 0 means never. Writes, ingest batches and migrations are not bounded',
    }),
    lost_grace_s: Type.Integer({
      minimum: 0,
      maximum: 86_400,
      default: 60,
      description: 'Seconds past its timeout before a run whose agent went away ends lost',
    }),
    sweep_interval_ms: Type.Integer({
      minimum: 50,
      maximum: 60_000,
      default: 1000,
      description: 'How often runs past their TTL or lost with their agent are ended',
    }),
    schedule_interval_ms: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000, description: 'How often scheduled commands are checked for due fires' }),
    tls_cert: Type.Optional(Type.String({ minLength: 1, description: "PEM certificate file: serve HTTPS (Puppet's PuppetDB terminus speaks only HTTPS)" })),
    tls_key: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key file for tls_cert' })),
    tls_client_ca: Type.Optional(
      Type.String({ minLength: 1, description: 'PEM CA file: client certificates it signed are trusted on /pdb when pdb_auth is client_cert' }),
    ),
    pdb_auth: Type.Union([Type.Literal('api_key'), Type.Literal('loopback'), Type.Literal('client_cert')], {
      default: 'api_key',
      description: 'Who may use /pdb without an API key: nobody, loopback clients, or verified client certificates',
    }),
    pdb_organization: Type.String({ minLength: 1, default: 'default', description: 'Slug of the organization that reporters trusted by pdb_auth write to' }),
    ingest_workers: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'Ingest command processing loops in this process' }),
    ingest_batch: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Ingest commands claimed and committed together' }),
    ingest_batch_bytes: Type.Integer({
      minimum: 4096,
      maximum: 1024 * MiB,
      default: MiB,
      description: 'Payload bytes claimed together, at most (a claim always takes one command): bounds the memory a batch holds',
    }),
    ingest_max_command_bytes: Type.Integer({ minimum: 1024, default: 20 * MiB, description: 'max-command-size: largest ingest command (uncompressed)' }),
    ingest_lease_ms: Type.Integer({
      minimum: 100,
      maximum: 3_600_000,
      default: 60_000,
      description: 'How long a claimed ingest command is held before another replica may reclaim it',
    }),
    ingest_keep_done_s: Type.Integer({
      minimum: 60,
      maximum: 31_536_000,
      default: 86_400,
      description: 'How long processed ingest commands stay visible by uuid before they are deleted',
    }),
    ingest_poll_ms: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000, description: 'How often ingest workers look for work without a wake-up' }),
    ingest_max_attempts: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 5,
      description:
        'Attempts an ingest command gets before it goes to the dead letter office: each claim is one, so a processing failure and a claim whose lease expired without an outcome both count',
    }),
    rate_limit_max: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      default: 500,
      description: 'Requests each API key, system or client address may make per rate_limit_window_s, per server; 0 turns the limit off',
    }),
    rate_limit_window_s: Type.Integer({ minimum: 1, maximum: 3600, default: 10, description: 'The rate limit window in seconds' }),
    audit_retention_days: Type.Integer({
      minimum: 0,
      maximum: 36_500,
      default: 365,
      description: 'Audit events older than this many days are deleted; 0 keeps them forever',
    }),
    audit_sweep_interval_s: Type.Integer({ minimum: 1, maximum: 86_400, default: 3600, description: 'How often audit events past retention are deleted' }),
    metrics_token: Type.Optional(Type.String({ minLength: 16, description: 'When set, GET /metrics requires Authorization: Bearer <metrics_token>' })),
    secret_key: Type.Optional(
      Type.String({
        pattern: SECRET_KEY_PATTERN,
        description:
          "Key that seals trigger secrets at rest (64 hex digits or 32 bytes in base64); the same on every replica. Default: the data dir's secret-key file",
      }),
    ),
    secret_key_previous: Type.Optional(
      Type.String({ pattern: SECRET_KEYS_PATTERN, description: 'Comma-separated previous keys, still readable while a rotation re-seals' }),
    ),
    webhook_timeout_s: Type.Integer({
      minimum: 1,
      maximum: 120,
      default: 10,
      description: 'How long one webhook delivery attempt may take, connecting and answering',
    }),
    webhook_retry_window_s: Type.Integer({
      minimum: 1,
      maximum: 7 * 86_400,
      default: 86_400,
      description: 'How long a webhook delivery that gets no 2xx is retried before it is marked failed',
    }),
    webhook_backoff_base_ms: Type.Integer({
      minimum: 10,
      maximum: 3_600_000,
      default: 10_000,
      description: 'The first webhook retry waits up to this long; doubling per attempt',
    }),
    webhook_backoff_max_ms: Type.Integer({ minimum: 10, maximum: 86_400_000, default: 3_600_000, description: 'The longest wait between webhook retries' }),
    webhook_poll_ms: Type.Integer({
      minimum: 10,
      maximum: 60_000,
      default: 1000,
      description: 'How often the webhook outbox is read for due deliveries without a wake-up',
    }),
    webhook_concurrency: Type.Integer({ minimum: 1, maximum: 256, default: 16, description: 'Webhook deliveries in flight at once on each server' }),
    webhook_log_keep_days: Type.Integer({
      minimum: 1,
      maximum: 3650,
      default: 30,
      description: 'How long delivered and failed webhook deliveries stay in the delivery log before they are deleted',
    }),
    webhook_max_per_organization: Type.Integer({ minimum: 1, maximum: 1000, default: 25, description: 'Webhooks an organization may have' }),
    webhook_allow_private_addresses: Type.Boolean({
      default: true,
      description:
        'Whether webhook URLs may reach loopback and private addresses (self-hosted receivers often live there); false refuses them at creation and at each delivery',
    }),
  },
  { additionalProperties: false },
);

export type ServerConfig = Static<typeof ServerConfigSchema>;

const BINDINGS: EnvBinding[] = [
  { key: 'listen', env: 'MUSTER_LISTEN', kind: 'string' },
  { key: 'data_dir', env: 'MUSTER_DATA_DIR', kind: 'string' },
  { key: 'database_url', env: 'MUSTER_DATABASE_URL', kind: 'string' },
  { key: 'log_level', env: 'MUSTER_LOG_LEVEL', kind: 'string' },
  { key: 'body_limit_bytes', env: 'MUSTER_BODY_LIMIT_BYTES', kind: 'integer' },
  { key: 'script_max_bytes', env: 'MUSTER_SCRIPT_MAX_BYTES', kind: 'integer' },
  { key: 'output_max_bytes', env: 'MUSTER_OUTPUT_MAX_BYTES', kind: 'integer' },
  { key: 'signature_skew_s', env: 'MUSTER_SIGNATURE_SKEW_S', kind: 'integer' },
  { key: 'trust_proxy', env: 'MUSTER_TRUST_PROXY', kind: 'string' },
  { key: 'bootstrap_api_key', env: 'MUSTER_BOOTSTRAP_API_KEY', kind: 'string' },
  { key: 'bootstrap_enrollment_key', env: 'MUSTER_BOOTSTRAP_ENROLLMENT_KEY', kind: 'string' },
  { key: 'shutdown_timeout_s', env: 'MUSTER_SHUTDOWN_TIMEOUT_S', kind: 'integer' },
  { key: 'pg_pool_size', env: 'MUSTER_PG_POOL_SIZE', kind: 'integer' },
  { key: 'replica_id', env: 'MUSTER_REPLICA_ID', kind: 'string' },
  { key: 'workers', env: 'MUSTER_WORKERS', kind: 'integer' },
  { key: 'peer_listen', env: 'MUSTER_PEER_LISTEN', kind: 'string' },
  { key: 'peer_url', env: 'MUSTER_PEER_URL', kind: 'string' },
  { key: 'pg_statement_timeout_ms', env: 'MUSTER_PG_STATEMENT_TIMEOUT_MS', kind: 'integer' },
  { key: 'lost_grace_s', env: 'MUSTER_LOST_GRACE_S', kind: 'integer' },
  { key: 'sweep_interval_ms', env: 'MUSTER_SWEEP_INTERVAL_MS', kind: 'integer' },
  { key: 'schedule_interval_ms', env: 'MUSTER_SCHEDULE_INTERVAL_MS', kind: 'integer' },
  { key: 'tls_cert', env: 'MUSTER_TLS_CERT', kind: 'string' },
  { key: 'tls_key', env: 'MUSTER_TLS_KEY', kind: 'string' },
  { key: 'tls_client_ca', env: 'MUSTER_TLS_CLIENT_CA', kind: 'string' },
  { key: 'pdb_auth', env: 'MUSTER_PDB_AUTH', kind: 'string' },
  { key: 'pdb_organization', env: 'MUSTER_PDB_ORGANIZATION', kind: 'string' },
  { key: 'ingest_workers', env: 'MUSTER_INGEST_WORKERS', kind: 'integer' },
  { key: 'ingest_batch', env: 'MUSTER_INGEST_BATCH', kind: 'integer' },
  { key: 'ingest_batch_bytes', env: 'MUSTER_INGEST_BATCH_BYTES', kind: 'integer' },
  { key: 'ingest_max_command_bytes', env: 'MUSTER_INGEST_MAX_COMMAND_BYTES', kind: 'integer' },
  { key: 'ingest_poll_ms', env: 'MUSTER_INGEST_POLL_MS', kind: 'integer' },
  { key: 'ingest_max_attempts', env: 'MUSTER_INGEST_MAX_ATTEMPTS', kind: 'integer' },
  { key: 'ingest_lease_ms', env: 'MUSTER_INGEST_LEASE_MS', kind: 'integer' },
  { key: 'ingest_keep_done_s', env: 'MUSTER_INGEST_KEEP_DONE_S', kind: 'integer' },
  { key: 'rate_limit_max', env: 'MUSTER_RATE_LIMIT_MAX', kind: 'integer' },
  { key: 'rate_limit_window_s', env: 'MUSTER_RATE_LIMIT_WINDOW_S', kind: 'integer' },
  { key: 'audit_retention_days', env: 'MUSTER_AUDIT_RETENTION_DAYS', kind: 'integer' },
  { key: 'audit_sweep_interval_s', env: 'MUSTER_AUDIT_SWEEP_INTERVAL_S', kind: 'integer' },
  { key: 'metrics_token', env: 'MUSTER_METRICS_TOKEN', kind: 'string' },
  { key: 'secret_key', env: 'MUSTER_SECRET_KEY', kind: 'string' },
  { key: 'secret_key_previous', env: 'MUSTER_SECRET_KEY_PREVIOUS', kind: 'string' },
  { key: 'webhook_timeout_s', env: 'MUSTER_WEBHOOK_TIMEOUT_S', kind: 'integer' },
  { key: 'webhook_retry_window_s', env: 'MUSTER_WEBHOOK_RETRY_WINDOW_S', kind: 'integer' },
  { key: 'webhook_backoff_base_ms', env: 'MUSTER_WEBHOOK_BACKOFF_BASE_MS', kind: 'integer' },
  { key: 'webhook_backoff_max_ms', env: 'MUSTER_WEBHOOK_BACKOFF_MAX_MS', kind: 'integer' },
  { key: 'webhook_poll_ms', env: 'MUSTER_WEBHOOK_POLL_MS', kind: 'integer' },
  { key: 'webhook_concurrency', env: 'MUSTER_WEBHOOK_CONCURRENCY', kind: 'integer' },
  { key: 'webhook_log_keep_days', env: 'MUSTER_WEBHOOK_LOG_KEEP_DAYS', kind: 'integer' },
  { key: 'webhook_max_per_organization', env: 'MUSTER_WEBHOOK_MAX_PER_ORGANIZATION', kind: 'integer' },
  { key: 'webhook_allow_private_addresses', env: 'MUSTER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES', kind: 'boolean' },
];

/** Loads the server config: defaults < file (`--config` or MUSTER_CONFIG) < MUSTER_* env < flags. */
export function loadServerConfig(flags: Record<string, unknown>, env: Record<string, string | undefined> = process.env): Readonly<ServerConfig> {
  const { config: file, ...rest } = flags;
  const config = loadConfig(ServerConfigSchema, { file: (file as string | undefined) ?? env.MUSTER_CONFIG, env, bindings: BINDINGS, flags: rest });
  // "true"/"false" from the environment mean the boolean, not a proxy list.
  if (config.trust_proxy === 'true' || config.trust_proxy === 'false') {
    return Object.freeze({ ...config, trust_proxy: config.trust_proxy === 'true' });
  }
  return config;
}

/** Splits HOST:PORT (IPv6 in brackets). */
export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(i + 1)) };
}

/** The environment variable that tells a worker of `muster server --workers N` its index (set by the primary). */
export const WORKER_INDEX_ENV = 'MUSTER_WORKER_INDEX';

/** This worker's index among `--workers N` (0 when unset). */
export function workerIndex(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env[WORKER_INDEX_ENV] ?? 0);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}
