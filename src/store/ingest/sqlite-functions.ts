import type BetterSqlite3 from 'better-sqlite3';
import { compileSafeRegex } from '../../lib/safe-regex.js';

/** The text of the value at a dotted path of a JSON document, as PostgreSQL's muster_fact gives it. */
function factText(doc: string | null, path: string): string | null {
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
 * A JSON path array from one of json_tree's `fullkey`s: `$.os."a.b"[0]` →
 * `["os","a.b",0]`. SQLite writes a key bare when it is a letter followed by
 * letters and digits, else in double quotes with its JSON escapes kept.
 */
export function jsonPathOf(fullkey: string): string {
  const path: Array<string | number> = [];
  let i = 1; // after '$'
  while (i < fullkey.length) {
    if (fullkey[i] === '[') {
      const end = fullkey.indexOf(']', i);
      path.push(Number(fullkey.slice(i + 1, end)));
      i = end + 1;
    } else if (fullkey[i + 1] === '"') {
      let end = i + 2;
      while (fullkey[end] !== '"') end += fullkey[end] === '\\' ? 2 : 1;
      path.push(JSON.parse(fullkey.slice(i + 1, end + 1)) as string);
      i = end + 1;
    } else {
      let end = i + 1;
      while (end < fullkey.length && fullkey[end] !== '.' && fullkey[end] !== '[') end++;
      path.push(fullkey.slice(i + 1, end));
      i = end;
    }
  }
  return JSON.stringify(path);
}

/**
 * The functions selectors use over structured facts, so that one SQL spelling
 * serves both databases (PostgreSQL defines them in migration 0007-ingest).
 */
export function registerIngestFunctions(sqlite: BetterSqlite3.Database): void {
  sqlite.function('muster_fact', { deterministic: true }, (doc: unknown, path: unknown) => factText(doc as string | null, String(path)));
  sqlite.function('muster_json_path', { deterministic: true }, (fullkey: unknown) => jsonPathOf(String(fullkey)));
  sqlite.function('muster_regexp', { deterministic: true }, (pattern: unknown, value: unknown) =>
    value === null ? null : compileSafeRegex(String(pattern))?.test(String(value)) ? 1 : 0,
  );
}
