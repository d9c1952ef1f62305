import { invalid } from '../errors.js';
import type { SystemRecord } from '../systems/index.js';
import type { SessionCriteria } from './store.js';

/** Each criterion, as BeyondTrust limits its `client.*` fields. */
export const CRITERION_MAX = 255;
/** Each custom field value (`session.custom.*`). */
export const CUSTOM_FIELD_MAX = 1024;
/** All custom field values together. */
export const CUSTOM_TOTAL_MAX = 10 * 1024;

const FIELDS = ['hostname', 'comments', 'tag', 'private_ip', 'public_ip', 'search'] as const;

/** Checks criteria (at least one, strings of at most 255 characters, no unknown names) and drops empty ones. */
export function validCriteria(value: unknown, field = 'criteria'): SessionCriteria {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, `must be an object with ${FIELDS.join(', ')}`);
  const out: SessionCriteria = {};
  for (const [key, v] of Object.entries(value)) {
    if (!(FIELDS as readonly string[]).includes(key)) throw invalid(`${field}.${key}`, `is not a criterion (${FIELDS.join(', ')})`);
    if (typeof v !== 'string') throw invalid(`${field}.${key}`, 'must be a string');
    if (v.length > CRITERION_MAX) throw invalid(`${field}.${key}`, `must be at most ${CRITERION_MAX} characters`);
    if (v.trim() !== '') out[key as keyof SessionCriteria] = v.trim();
  }
  if (Object.keys(out).length === 0) throw invalid(field, 'give at least one criterion: hostname, comments, tag, private_ip, public_ip or search');
  return out;
}

/** Checks custom fields against the organization's field codes and the size limits. */
export function validCustom(value: unknown, allowed: readonly string[], field = 'custom'): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, 'must be an object of strings');
  let total = 0;
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!allowed.includes(key))
      throw invalid(
        `${field}.${key}`,
        allowed.length ? `is not a custom field of this organization (${allowed.join(', ')})` : 'is not a custom field: this organization has none configured',
      );
    if (typeof v !== 'string') throw invalid(`${field}.${key}`, 'must be a string');
    if (v.length > CUSTOM_FIELD_MAX) throw invalid(`${field}.${key}`, `must be at most ${CUSTOM_FIELD_MAX} characters`);
    total += v.length;
    out[key] = v;
  }
  if (total > CUSTOM_TOTAL_MAX) throw invalid(field, `the custom fields hold ${total} characters; at most ${CUSTOM_TOTAL_MAX} in all`);
  return out;
}

const quote = (v: string) => `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/**
 * The selector that finds the candidates (ANDed criteria; `search` matches
 * any field or the name). IP criteria are narrowed by `matchesCriteria`
 * afterwards, as the selector's `ip:` matches private and public alike.
 */
export function criteriaSelector(c: SessionCriteria): string {
  const parts: string[] = [];
  if (c.hostname) parts.push(`hostname:${quote(c.hostname)}`);
  if (c.comments) parts.push(`comments:${quote(c.comments)}`);
  if (c.tag) parts.push(`tag:${quote(c.tag)}`);
  if (c.private_ip) parts.push(`ip:${quote(c.private_ip)}`);
  if (c.public_ip) parts.push(`ip:${quote(c.public_ip)}`);
  if (c.search) parts.push(`(${['hostname', 'name', 'comments', 'tag', 'ip'].map((k) => `${k}:${quote(c.search!)}`).join(' or ')})`);
  return parts.join(' and ');
}

/** Whether a system's addresses meet the IP criteria: private among its interfaces' addresses, public its public address. */
export function matchesCriteria(system: SystemRecord, c: SessionCriteria): boolean {
  const has = (value: string | null | undefined, part: string) => (value ?? '').toLowerCase().includes(part.toLowerCase());
  if (c.private_ip && !system.ipAddresses.some((ip) => has(ip, c.private_ip!))) return false;
  if (c.public_ip && !has(system.publicIp, c.public_ip)) return false;
  return true;
}
