import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes `content` to a temporary file beside `path` and fsyncs it, without
 * replacing `path` yet; returns the temporary path for `commitFile`. Split in
 * two so a caller can prepare several files before committing any.
 */
export function prepareFile(path: string, content: string, mode: number, sync = true): string {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  let written = false;
  try {
    writeFileSync(fd, content);
    if (sync) fsyncSync(fd);
    written = true;
  } finally {
    closeSync(fd);
    if (!written) rmSync(tmp, { force: true });
  }
  return tmp;
}

/** Renames a prepared file into place and fsyncs its folder, so the rename itself survives a power cut. */
export function commitFile(tmp: string, path: string, sync = true): void {
  renameSync(tmp, path);
  if (sync) syncDir(dirname(path));
}

/**
 * Replaces `path` atomically and durably: a reader sees the old content or
 * the new, never a mix. `sync: false` keeps it atomic but skips the fsyncs,
 * for what only needs to survive the process, not a power cut.
 */
export function writeFileAtomic(path: string, content: string, mode = 0o600, options: { sync?: boolean } = {}): void {
  const sync = options.sync ?? true;
  commitFile(prepareFile(path, content, mode, sync), path, sync);
}

/** fsyncs a folder (its entries: creations, renames, deletions). */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
