import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ServerConfig } from './config/server.js';
import type { Database } from './store/index.js';

/** Loads only the driver the config selects, so the agent and CLI never load one. */
export async function openDatabase(config: ServerConfig, logger: Logger): Promise<Database> {
  if (config.database_url) {
    const { openPostgres } = await import('./store/postgres.js');
    return openPostgres(config.database_url, { poolSize: config.pg_pool_size, statementTimeoutMs: config.pg_statement_timeout_ms });
  }
  const { openSqlite } = await import('./store/sqlite.js');
  return openSqlite(join(resolve(config.data_dir), 'muster.db'), {
    onCheckpointError: (err) => logger.warn({ err }, 'a database checkpoint failed; will retry'),
  });
}
