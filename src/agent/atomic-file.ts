import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes `content` to a temporary file beside `path` and fsyncs it, without
 * replacing `path` yet; returns the temporary path for `commitFile`. Split in
 * two so a caller can prepare several files before committing any.
 */
export function prepareFile(path: string, content: string, mode: number): string {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  let written = false;
  try {
    writeFileSync(fd, content);
    fsyncSync(fd);
    written = true;
  } finally {
    closeSync(fd);
    if (!written) rmSync(tmp, { force: true });
  }
  return tmp;
}

/** Renames a prepared file into place and fsyncs its folder, so the rename itself survives a power cut. */
export function commitFile(tmp: string, path: string): void {
  renameSync(tmp, path);
  syncDir(dirname(path));
}

/** Replaces `path` atomically and durably: a reader sees the old content or the new, never a mix. */
export function writeFileAtomic(path: string, content: string, mode = 0o600): void {
  commitFile(prepareFile(path, content, mode), path);
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
