import { invalid } from '../errors.js';
import { QUERY_FIELDS, type SystemPatch, type SystemQuery } from './store.js';

/** The longest tag, in characters (code points). */
export const MAX_TAG_LENGTH = 128;
/**
 * Printable text: no control characters, unpaired surrogates (not UTF-8),
 * private-use characters or line and paragraph separators. Spaces are fine
 * (`stopped servers`); selectors match such a tag when quoted.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u;

/** Tags: at most 50, each 1–128 printable characters, not only spaces; duplicates dropped. */
export function checkTags(value: unknown, field = 'tags'): string[] {
  if (!Array.isArray(value)) throw invalid(field, 'must be an array of strings');
  if (value.length > 50) throw invalid(field, 'must hold at most 50 tags');
  for (const [i, tag] of value.entries()) {
    if (typeof tag !== 'string' || tag.trim() === '' || [...tag].length > MAX_TAG_LENGTH || UNPRINTABLE.test(tag)) {
      throw invalid(`${field}[${i}]`, `must be 1–${MAX_TAG_LENGTH} printable characters (letters, digits, spaces, punctuation), not only spaces`);
    }
  }
  return [...new Set(value as string[])];
}

const MUTABLE = ['displayName', 'description', 'tags', 'attributes', 'certname'] as const;
/** A PuppetDB certname: what Puppet accepts (lowercase letters, digits, `._-`), at most 255 characters. */
const CERTNAME = /^[a-z0-9._-]{1,255}$/;
/** Set at enrollment or reported by the agent; never changed through the API. */
const IMMUTABLE = new Set([
  'id',
  'organizationId',
  'publicKey',
  'createdAt',
  'firstContact',
  'lastContact',
  'hostname',
  'os',
  'osRelease',
  'arch',
  'kernel',
  'agentVersion',
  'ipAddresses',
  'publicIp',
  'connected',
  'active',
  'facts',
]);
const ATTRIBUTE_NAME = /^[\w.:-]{1,64}$/;

/** Attributes: at most 50 names of 1–64 letters, digits or `_.:-`, each with a string value of at most 1024 characters. */
export function checkAttributes(value: unknown, field: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, 'must be an object of string values');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 50) throw invalid(field, 'must hold at most 50 attributes');
  for (const [name, v] of entries) {
    if (!ATTRIBUTE_NAME.test(name)) throw invalid(`${field}.${name}`, 'names are 1–64 letters, digits or _.:-');
    if (typeof v !== 'string' || v.length > 1024) throw invalid(`${field}.${name}`, 'must be a string of at most 1024 characters');
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function checkText(value: unknown, field: string, max: number, required: boolean): string {
  if (typeof value !== 'string' || value.length > max || (required && value.trim() === '')) {
    throw invalid(field, `must be a ${required ? 'non-empty ' : ''}string of at most ${max} characters`);
  }
  return required ? value.trim() : value;
}

/**
 * Validates a system patch given in core's field names. `names` maps each core
 * name to the name the caller used, so errors name the caller's field. Fields
 * set at enrollment or reported by the agent "cannot be changed"; anything else
 * unknown is refused too.
 */
export function checkSystemPatch(input: Record<string, unknown>, names: Record<string, string> = {}, bySystem = false): SystemPatch {
  const name = (k: string) => names[k] ?? k;
  const patch: SystemPatch = {};
  for (const [key, value] of Object.entries(input)) {
    if (IMMUTABLE.has(key) || (bySystem && key === 'certname')) throw invalid(name(key), 'cannot be changed');
    if (!(MUTABLE as readonly string[]).includes(key)) throw invalid(name(key), 'is not a known field');
    if (key === 'displayName') patch.displayName = checkText(value, name(key), 255, true);
    if (key === 'description') patch.description = checkText(value, name(key), 4096, false);
    if (key === 'tags') patch.tags = checkTags(value, name(key));
    if (key === 'attributes') patch.attributes = checkAttributes(value, name(key));
    if (key === 'certname') {
      if (value !== null && (typeof value !== 'string' || !CERTNAME.test(value)))
        throw invalid(name(key), 'must be null or a certname: 1–255 lowercase letters, digits and ._-');
      patch.certname = value;
    }
  }
  return patch;
}

/** Validates a listing query's paging: skip ≥ 0, 1 ≤ limit ≤ 1000. */
export function checkPaging(query: SystemQuery): SystemQuery {
  if (!Number.isInteger(query.skip) || query.skip < 0) throw invalid('skip', 'must be a non-negative integer');
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 1000) throw invalid('limit', 'must be an integer from 1 to 1000');
  for (const f of query.filters) if (!(QUERY_FIELDS as readonly string[]).includes(f.field)) throw invalid('filter', `cannot filter on ${String(f.field)}`);
  for (const s of query.sort) if (!(QUERY_FIELDS as readonly string[]).includes(s.field)) throw invalid('sort', `cannot sort on ${String(s.field)}`);
  return query;
}
