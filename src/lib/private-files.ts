import { closeSync, lstatSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The server's data dir holds the database (trigger secrets, facts, run
 * output, dead letters) and key files: only its owner may read any of it.
 * Modes are set where each file is created rather than through the process
 * umask, so they hold whoever starts the server (a test, `muster start`, a
 * unit file) and whatever its umask; SQLite gives its -wal and -shm files the
 * mode of the database file, so creating that file 0600 covers them.
 */

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Entries looked at when checking an existing data dir: enough for its own files, bounded for a dir full of dead letters. */
const SCAN_LIMIT = 10_000;

/** A file or dir that others than its owner can reach. */
export interface LooseEntry {
  path: string;
  /** The permission bits, as octal text (`0644`). */
  mode: string;
  kind: 'dir' | 'file';
}

/** Creates `dir` (and missing parents) 0700; an existing dir keeps its mode. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** Creates `path` empty and 0600 when it does not exist yet; an existing file is left as it is. */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
}

/**
 * The data dir itself and the entries under it (at most SCAN_LIMIT, symbolic
 * links not followed) that a group or other users can read, write or enter.
 */
export function looseEntries(dir: string): LooseEntry[] {
  const loose: LooseEntry[] = [];
  let seen = 0;
  const visit = (path: string): void => {
    if (++seen > SCAN_LIMIT) return;
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return; // removed meanwhile
    }
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) loose.push({ path, mode: `0${(st.mode & 0o777).toString(8)}`, kind: st.isDirectory() ? 'dir' : 'file' });
    if (st.isDirectory()) for (const name of safeList(path)) visit(join(path, name));
  };
  visit(dir);
  return loose;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
