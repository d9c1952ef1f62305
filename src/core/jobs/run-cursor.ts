import { invalid } from '../errors.js';
import { isId } from '../ids.js';
import type { RunRecord } from './store.js';

/** A page cursor of a job's runs: the last run's hostname and id, opaque to clients. */
export function encodeRunCursor(run: RunRecord): string {
  return Buffer.from(JSON.stringify([run.hostname, run.id])).toString('base64url');
}

/** The position a cursor names; INVALID_ARGUMENT for anything this server did not write. */
export function decodeRunCursor(cursor: string): { hostname: string; id: string } {
  try {
    const [hostname, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof hostname === 'string' && typeof id === 'string' && isId(id)) return { hostname, id };
  } catch {
    // Not JSON: refused below, like any other cursor this server did not write.
  }
  throw invalid('cursor', "must be a page's next_cursor");
}
