import { envNameProblem } from '../../lib/env-policy.js';
import { SHELLS } from '../../protocol/messages.js';
import { invalid } from '../errors.js';

export function checkShell(value: unknown): string {
  if (value === undefined) return 'bash';
  if (typeof value !== 'string' || !(SHELLS as readonly string[]).includes(value)) {
    throw invalid('shell', `must be one of ${SHELLS.join(', ')}`);
  }
  return value;
}

export function checkContent(value: unknown, maxBytes: number): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid('content', 'must be a non-empty string');
  if (Buffer.byteLength(value) > maxBytes) throw invalid('content', `must be at most ${maxBytes} bytes`);
  return value;
}

export function checkTimeout(value: unknown): number {
  if (value === undefined) return 120;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 86_400) {
    throw invalid('timeout_s', 'must be an integer from 1 to 86400');
  }
  return value;
}

/**
 * The job's environment, which every face's launch and every trigger reaches:
 * names must be valid shell variable names (values reach the script only
 * through its environment, never spliced into its text), `MUSTER_*` is
 * reserved for what the agent sets, and no variable may change how the
 * script runs (the deny list in lib/env-policy.ts: BASH_ENV, PATH, LD_*, …).
 */
export function checkEnv(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('env', 'must be an object of strings');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 256) throw invalid('env', 'must hold at most 256 variables');
  let bytes = 0;
  for (const [name, v] of entries) {
    const problem = envNameProblem(name);
    if (problem !== undefined) throw invalid(`env.${name}`, problem);
    if (typeof v !== 'string') throw invalid(`env.${name}`, 'must be a string');
    if (v.includes('\0')) throw invalid(`env.${name}`, 'must not contain NUL bytes');
    bytes += name.length + Buffer.byteLength(v);
  }
  if (bytes > 128 * 1024) throw invalid('env', 'must total at most 128 KiB');
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * A rate limit given as a count or a percentage of the job's systems,
 * resolved to a count. `max_concurrency` must allow at least one run;
 * `max_errors` may be 0 (stop at the first error).
 */
export function checkRate(value: unknown, field: 'max_concurrency' | 'max_errors', total: number): number | null {
  if (value === undefined || value === null) return null;
  const min = field === 'max_concurrency' ? 1 : 0;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < min) throw invalid(field, `must be an integer ≥ ${min} or a percentage like "10%"`);
    return value;
  }
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)%$/.exec(value.trim()) : null;
  if (!m) throw invalid(field, `must be an integer ≥ ${min} or a percentage like "10%"`);
  const pct = Number(m[1]);
  if (pct > 100 || (field === 'max_concurrency' && pct <= 0)) throw invalid(field, `must be a percentage in ${field === 'max_concurrency' ? '(0, 100]' : '[0, 100]'}`);
  return field === 'max_concurrency' ? Math.max(1, Math.ceil((total * pct) / 100)) : Math.floor((total * pct) / 100);
}

export function checkTtl(value: unknown): number {
  if (value === undefined) return 3600;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 604_800) throw invalid('ttl_s', 'must be an integer from 1 to 604800 (7 days)');
  return value;
}

export function checkRunAs(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !/^[a-z_][a-z0-9_.-]{0,31}$/.test(value)) throw invalid('run_as', 'must be a user name (lower-case letters, digits, _ . -)');
  return value;
}
