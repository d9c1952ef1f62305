import cluster from 'node:cluster';
import type { Command } from 'commander';
import { ConfigError } from './config/load.js';
import { loadServerConfig, type ServerConfig } from './config/server.js';
import { isMusterError } from './core/errors.js';
import { tuneHeapGrowth } from './lib/heap-growth.js';

/** `muster server`: runs the control plane until SIGTERM/SIGINT. */
export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the control plane (HTTP API, agent hub, job engine)')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8080)')
    .option('--data-dir <dir>', 'data directory: SQLite database and key files (default ./muster-data)')
    .option('--database-url <url>', 'PostgreSQL URL (postgres://…) instead of SQLite')
    .option('--config <file>', 'JSON config file')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option('--tls-cert <file>', "PEM certificate: serve HTTPS (needed by Puppet's PuppetDB terminus)")
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--workers <n>', 'server processes on this machine sharing the port and the database (default 1)')
    .option('--rotate-secret-key', "re-seal every trigger secret with a new key in the data dir's secret-key file, then exit (server stopped)")
    .action(async (opts: Record<string, string | undefined>) => {
      let config;
      try {
        config = loadServerConfig({
          listen: opts.listen,
          data_dir: opts.dataDir,
          database_url: opts.databaseUrl,
          config: opts.config,
          log_level: opts.logLevel,
          tls_cert: opts.tlsCert,
          tls_key: opts.tlsKey,
          workers: opts.workers === undefined ? undefined : Number(opts.workers),
        });
      } catch (err) {
        if (err instanceof ConfigError) exitWith(2, err.message);
        throw err;
      }
      if (opts.rotateSecretKey) return rotateSecretKey(config);
      // For the server alone: slower old-generation growth while its heap is small (src/lib/heap-growth.ts).
      tuneHeapGrowth();
      let server;
      try {
        server =
          config.workers > 1 ? await (await import('./server-cluster.js')).startClustered(config) : await (await import('./server.js')).startServer(config);
      } catch (err) {
        if (isMusterError(err, 'INVALID_ARGUMENT')) exitWith(2, `invalid config ${err.message}`);
        exitWith(1, `cannot start: ${(err as Error).message}`);
      }
      let signals = 0;
      let shuttingDown = false;
      const shutdown = (signal: string) => {
        if (++signals > 1) exitWith(1, `second ${signal}: exiting without a clean shutdown`);
        stop();
      };
      const stop = () => {
        if (shuttingDown) return;
        shuttingDown = true;
        const force = setTimeout(() => exitWith(1, `shutdown took longer than ${config.shutdown_timeout_s} s`), config.shutdown_timeout_s * 1000);
        force.unref();
        server.stop().then(
          () => process.exit(0),
          (err: unknown) => exitWith(1, `shutdown failed: ${(err as Error).message}`),
        );
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
      // A worker of `--workers N`: Ctrl-C reaches it and its primary at once, and the primary then asks again
      // (a stop, not a second signal); a worker whose primary is gone stops too, freeing the port.
      if (cluster.isWorker) {
        process.on('message', (message: unknown) => (message as { muster?: string } | null)?.muster === 'stop' && stop());
        process.on('disconnect', stop);
      }
    });
}

/** `--rotate-secret-key`: prints the old and new key ids (not the keys) and how many secrets were re-sealed. */
async function rotateSecretKey(config: ServerConfig): Promise<void> {
  const [{ rotateSecretKeyFile }, { default: pino }] = await Promise.all([import('./server-secrets.js'), import('pino')]);
  try {
    const done = await rotateSecretKeyFile(config, pino({ level: config.log_level }));
    process.stdout.write(`re-sealed ${done.resealed} trigger secret(s): key ${done.from} → ${done.to}\n`);
  } catch (err) {
    if (isMusterError(err, 'INVALID_ARGUMENT')) exitWith(2, err.message);
    exitWith(1, `cannot rotate the secret key: ${(err as Error).message}`);
  }
}

function exitWith(code: number, message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(code);
}
