import { invalid, notFound } from '../errors.js';
import { isId } from '../ids.js';
import { parseSelector } from '../selectors/index.js';
import type { SystemStore } from '../systems/index.js';

/** How a job names its systems: explicit ids, groups, a selector, or all — the union of what is given. */
export interface Targets {
  system_ids?: unknown;
  group_ids?: unknown;
  selector?: unknown;
  all?: unknown;
}

function idList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(field, 'must be an array of ids');
  if (value.length > 100_000) throw invalid(field, 'must hold at most 100000 ids');
  for (const [i, id] of value.entries()) if (typeof id !== 'string') throw invalid(`${field}[${i}]`, 'must be a string');
  return [...new Set(value as string[])];
}

/**
 * Resolves targets to system ids within the organization. Explicit ids that do
 * not exist (or belong to another organization) are NOT_FOUND; a selection
 * that matches nothing is an error, not an empty job.
 */
export async function resolveTargets(
  systems: SystemStore,
  organizationId: string,
  targets: unknown,
): Promise<{ systemIds: string[]; selector: string | null }> {
  if (typeof targets !== 'object' || targets === null || Array.isArray(targets)) {
    throw invalid('targets', 'must be an object with system_ids, group_ids, selector or all');
  }
  const t = targets as Targets;
  if (t.all !== undefined && typeof t.all !== 'boolean') throw invalid('targets.all', 'must be a boolean');
  const ids = idList(t.system_ids, 'targets.system_ids');
  const groups = idList(t.group_ids, 'targets.group_ids');
  const parts: string[] = [];
  if (t.all === true) parts.push('*');
  if (t.selector !== undefined) {
    if (typeof t.selector !== 'string') throw invalid('targets.selector', 'must be a string');
    parts.push(`(${t.selector})`);
    parseSelector(t.selector);
  }
  for (const g of groups) parts.push(`group:"${g.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`);
  if (ids.length === 0 && parts.length === 0) throw invalid('targets', 'name some systems: system_ids, group_ids, selector or all');
  const found = new Set(ids.length ? await systems.existingSystemIds(organizationId, ids.filter(isId)) : []);
  const missing = ids.find((id) => !found.has(id));
  if (missing !== undefined) throw notFound('system', missing);
  const selector = parts.length ? parts.join(' or ') : null;
  const selected = selector ? await systems.selectSystemIds(organizationId, parseSelector(selector)) : [];
  const systemIds = [...new Set([...ids, ...selected])];
  if (systemIds.length === 0)
    throw invalid(
      'targets',
      t.all === true && parts.length === 1 ? 'the organization has no systems yet: enroll an agent first' : 'the selection matches no systems',
    );
  return { systemIds, selector: typeof t.selector === 'string' ? t.selector : null };
}
