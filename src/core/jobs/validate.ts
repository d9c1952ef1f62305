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

/** Bounds on one run's environment: 256 variables and 128 KiB of names and values. */
const MAX_ENV_VARS = 256;
const MAX_ENV_BYTES = 128 * 1024;

/**
 * The job's environment, which every face's launch and every trigger reaches:
 * names must be valid shell variable names (values reach the script only
 * through its environment, never spliced into its text), `MUSTER_*` is
 * reserved for what the agent sets, and no variable may change how the
 * script runs (the deny list in lib/env-policy.ts: BASH_ENV, PATH, LD_*, …).
 * `field` names the value in errors (`env`, or `run_env.<system id>`).
 */
export function checkEnv(value: unknown, field = 'env'): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, 'must be an object of strings');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_ENV_VARS) throw invalid(field, `must hold at most ${MAX_ENV_VARS} variables`);
  for (const [name, v] of entries) {
    const problem = envNameProblem(name);
    if (problem !== undefined) throw invalid(`${field}.${name}`, problem);
    if (typeof v !== 'string') throw invalid(`${field}.${name}`, 'must be a string');
    if (v.includes('\0')) throw invalid(`${field}.${name}`, 'must not contain NUL bytes');
  }
  const env = Object.fromEntries(entries) as Record<string, string>;
  checkEnvSize(env, field);
  return env;
}

function checkEnvSize(env: Record<string, string>, field: string): void {
  const entries = Object.entries(env);
  if (entries.length > MAX_ENV_VARS) throw invalid(field, `must hold at most ${MAX_ENV_VARS} variables`);
  const bytes = entries.reduce((n, [name, v]) => n + name.length + Buffer.byteLength(v), 0);
  if (bytes > MAX_ENV_BYTES) throw invalid(field, 'must total at most 128 KiB');
}

/**
 * Per-run environment: for each of the job's systems, variables of its own,
 * checked like the job's (`run_env.<system id>.<NAME>` names a refused one).
 * A system that is not among the job's targets is refused by id. The run's
 * environment is the job's with its own on top, and that whole must stay
 * within the same bounds as a job's. Systems without variables are left out.
 */
export function checkRunEnv(value: unknown, systemIds: readonly string[], jobEnv: Record<string, string>): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  if (value === undefined || value === null) return out;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('run_env', 'must be an object of environments keyed by system id');
  const targets = new Set(systemIds);
  for (const [systemId, env] of Object.entries(value as Record<string, unknown>)) {
    const field = `run_env.${systemId}`;
    if (!targets.has(systemId)) throw invalid(field, `system ${systemId} is not among the job's targets`);
    const own = checkEnv(env, field);
    checkEnvSize({ ...jobEnv, ...own }, field);
    if (Object.keys(own).length > 0) out.set(systemId, own);
  }
  return out;
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
  if (pct > 100 || (field === 'max_concurrency' && pct <= 0))
    throw invalid(field, `must be a percentage in ${field === 'max_concurrency' ? '(0, 100]' : '[0, 100]'}`);
  return field === 'max_concurrency' ? Math.max(1, Math.ceil((total * pct) / 100)) : Math.floor((total * pct) / 100);
}

export function checkTtl(value: unknown): number {
  if (value === undefined) return 3600;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 604_800)
    throw invalid('ttl_s', 'must be an integer from 1 to 604800 (7 days)');
  return value;
}

export function checkRunAs(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !/^[a-z_][a-z0-9_.-]{0,31}$/.test(value)) throw invalid('run_as', 'must be a user name (lower-case letters, digits, _ . -)');
  return value;
}
