import { existsSync, fsyncSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ServerConfig } from './config/server.js';
import { MusterError } from './core/errors.js';
import { ensurePrivateDir, looseEntries, PRIVATE_FILE_MODE } from './lib/private-files.js';
import { newSecretKey, parseSecretKey, secretKeyId, secretKeyring, type SecretKeyring } from './lib/secret-box.js';
import { openDatabase } from './server-database.js';
import { migrate, sealTriggerSecrets, type Database } from './store/index.js';

/** Where the server keeps its secret key when none is configured, and the previous ones during a rotation. */
export const KEY_FILE = 'secret-key';
export const PREVIOUS_KEYS_FILE = 'secret-key.previous';

/**
 * Creates the data dir 0700 when the server needs it (SQLite, or a key file),
 * and warns, as one structured log line, when it or anything in it can be
 * read by others than its owner. Returns the dir's absolute path.
 */
export function prepareDataDir(config: ServerConfig, logger: Logger): string {
  const dir = resolve(config.data_dir);
  if (!config.database_url || !config.secret_key) ensurePrivateDir(dir);
  if (!existsSync(dir)) return dir;
  const loose = looseEntries(dir);
  if (loose.length > 0) {
    logger.warn(
      { data_dir: dir, loose: loose.slice(0, 20), loose_count: loose.length, fix: `chmod -R go-rwx ${dir}` },
      'the data dir holds trigger secrets, facts, run output and keys, and others than its owner can read some of it',
    );
  }
  return dir;
}

/** Writes `text` to a new 0600 file at `path` (refusing to replace one) and makes it durable. */
function writeNewPrivateFile(path: string, text: string, flags = 'wx'): void {
  const fd = openSync(path, flags, PRIVATE_FILE_MODE);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readKeyFile(path: string): Buffer[] {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.map((line, i) => {
    try {
      return parseSecretKey(line);
    } catch (err) {
      throw new MusterError('INVALID_ARGUMENT', `secret_key: line ${i + 1} of ${path}: ${(err as Error).message}`, { field: 'secret_key' });
    }
  });
}

function configuredKeys(config: ServerConfig): { current?: Buffer; previous: Buffer[] } {
  const parse = (text: string, field: string) => {
    try {
      return parseSecretKey(text);
    } catch (err) {
      throw new MusterError('INVALID_ARGUMENT', `${field}: ${(err as Error).message}`, { field });
    }
  };
  const previous = (config.secret_key_previous ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => parse(s, 'secret_key_previous'));
  return { ...(config.secret_key ? { current: parse(config.secret_key, 'secret_key') } : {}), previous };
}

/**
 * The keyring trigger secrets are sealed with: `secret_key`
 * (MUSTER_SECRET_KEY), or else the data dir's `secret-key` file, created
 * 0600 with a random key on first start. Previous keys, still readable while
 * a rotation re-seals, come from `secret_key_previous` and the
 * `secret-key.previous` file.
 */
export function loadSecretKeyring(config: ServerConfig, dataDir: string): { keyring: SecretKeyring; fromFile: boolean } {
  const configured = configuredKeys(config);
  const previousFile = join(dataDir, PREVIOUS_KEYS_FILE);
  const previous = [...configured.previous, ...(existsSync(previousFile) ? readKeyFile(previousFile) : [])];
  if (configured.current) return { keyring: secretKeyring(configured.current, previous), fromFile: false };
  const keyFile = join(dataDir, KEY_FILE);
  if (!existsSync(keyFile)) {
    try {
      writeNewPrivateFile(keyFile, `${newSecretKey()}\n`);
    } catch (err) {
      // Another process created it first: use that one.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const [current] = readKeyFile(keyFile);
  if (!current) throw new MusterError('INVALID_ARGUMENT', `secret_key: ${keyFile} is empty`, { field: 'secret_key' });
  return { keyring: secretKeyring(current, previous), fromFile: true };
}

/**
 * Loads the keyring and, before the server answers anything, seals every
 * stored trigger secret with its current key (store/repos/triggers.ts). The
 * previous-keys file goes once nothing is sealed with those keys any more.
 */
export async function openSecretKeyring(config: ServerConfig, dataDir: string, database: Database, logger: Logger): Promise<SecretKeyring> {
  const { keyring, fromFile } = loadSecretKeyring(config, dataDir);
  const report = await sealTriggerSecrets(database.db, keyring, new Date().toISOString());
  if (report.sealed > 0 || report.resealed > 0 || report.previousKeyId) {
    logger.info(
      { key_id: report.keyId, sealed: report.sealed, resealed: report.resealed, previous_key_id: report.previousKeyId },
      'trigger secrets are sealed with the current secret key',
    );
  }
  const previousFile = join(dataDir, PREVIOUS_KEYS_FILE);
  if (fromFile && existsSync(previousFile)) rmSync(previousFile);
  if (keyring.ids.length > 1 && !fromFile)
    logger.info({ key_id: keyring.currentId }, 'every trigger secret is sealed with the current key: secret_key_previous may be removed');
  return keyring;
}

/**
 * `muster server --rotate-secret-key`: a new key file, every trigger secret
 * re-sealed with it, the old key kept readable (in `secret-key.previous`)
 * until that is done, so that an interrupted rotation finishes at the next
 * start. Run it with the server stopped (a running server holds the old key
 * only). A configured `secret_key` is rotated where it is configured (README).
 */
export async function rotateSecretKeyFile(config: ServerConfig, logger: Logger): Promise<{ from: string; to: string; resealed: number }> {
  if (config.secret_key) {
    throw new MusterError(
      'INVALID_ARGUMENT',
      'secret_key: the key comes from the configuration (MUSTER_SECRET_KEY): rotate it there, giving the old one as MUSTER_SECRET_KEY_PREVIOUS until every server has restarted (see README, "Secrets at rest")',
      { field: 'secret_key' },
    );
  }
  const dataDir = prepareDataDir(config, logger);
  const keyFile = join(dataDir, KEY_FILE);
  if (!existsSync(keyFile))
    throw new MusterError('INVALID_ARGUMENT', `secret_key: there is no ${keyFile} yet: start the server once, which creates it`, { field: 'secret_key' });
  const [old] = readKeyFile(keyFile);
  const fresh = newSecretKey();
  // The old key is durable among the previous ones before the new one replaces it.
  writeNewPrivateFile(join(dataDir, PREVIOUS_KEYS_FILE), `${old!.toString('base64')}\n`, 'a');
  writeNewPrivateFile(`${keyFile}.new`, `${fresh}\n`, 'w');
  renameSync(`${keyFile}.new`, keyFile);
  const database = await openDatabase(config, logger);
  try {
    await migrate(database.db);
    const { keyring } = loadSecretKeyring(config, dataDir);
    const report = await sealTriggerSecrets(database.db, keyring, new Date().toISOString());
    rmSync(join(dataDir, PREVIOUS_KEYS_FILE));
    return { from: secretKeyId(old!), to: keyring.currentId, resealed: report.resealed + report.sealed };
  } finally {
    await database.close();
  }
}
