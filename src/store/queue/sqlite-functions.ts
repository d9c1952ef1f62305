import type BetterSqlite3 from 'better-sqlite3';

const regexCache = new Map<string, RegExp | null>();

function compiled(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern);
    } catch {
      re = null;
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

/** The text of the value at a dotted path of a JSON document, as PostgreSQL's muster_fact gives it. */
export function factText(doc: string | null, path: string): string | null {
  if (doc === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(doc);
  } catch {
    return null;
  }
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return null;
    value = Array.isArray(value) ? value[Number(part)] : (value as Record<string, unknown>)[part];
  }
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The functions selectors use over structured facts, so that one SQL spelling
 * serves both databases (PostgreSQL defines them in migration 0007-ingest).
 */
export function registerIngestFunctions(sqlite: BetterSqlite3.Database): void {
  sqlite.function('muster_fact', { deterministic: true }, (doc: unknown, path: unknown) => factText(doc as string | null, String(path)));
  sqlite.function('muster_regexp', { deterministic: true }, (pattern: unknown, value: unknown) =>
    value === null ? null : compiled(String(pattern))?.test(String(value)) ? 1 : 0,
  );
}
