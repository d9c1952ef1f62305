import { invalid } from '../../core/errors.js';
import type { Actor, Core } from '../../core/index.js';
import { asNumber, type NumberedKind } from '../../core/numbers/index.js';
import type { NumberPage } from '../../core/attributes/index.js';
import type { Params } from './params.js';

/** SimpleMDM's page size when a list names none. */
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;

/** `limit` (1–100), `starting_after` and `ending_before` (integer ids) of a list request. */
export function pageOf(p: Params): NumberPage {
  const limitText = p.text('limit');
  const limit = limitText === undefined ? DEFAULT_LIMIT : Number(limitText);
  if (!/^\d+$/.test(limitText ?? String(DEFAULT_LIMIT)) || limit < 1 || limit > MAX_LIMIT) throw invalid('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
  const cursor = (name: string): number | undefined => {
    const v = p.text(name);
    if (v === undefined || v === '') return undefined;
    const n = asNumber(v);
    if (n === undefined) throw invalid(name, 'must be the integer id of an item of the list');
    return n;
  };
  const after = cursor('starting_after');
  const before = cursor('ending_before');
  return { limit, ...(after !== undefined ? { after } : {}), ...(before !== undefined ? { before } : {}) };
}

/** One page of a list held in memory, by ascending integer id. */
export function pageItems<T>(items: readonly T[], numberOf: (item: T) => number, page: NumberPage): { items: T[]; hasMore: boolean } {
  const sorted = [...items].sort((a, b) => numberOf(a) - numberOf(b));
  const inRange = sorted.filter((i) => (page.after === undefined || numberOf(i) > page.after) && (page.before === undefined || numberOf(i) < page.before));
  // Before a cursor alone, the page is the last `limit` items before it.
  const fromEnd = page.before !== undefined && page.after === undefined;
  const kept = fromEnd ? inRange.slice(Math.max(0, inRange.length - page.limit)) : inRange.slice(0, page.limit);
  return { items: kept, hasMore: inRange.length > page.limit };
}

/** A list answer over entities that get integer ids: numbered, paged by number, each shown by `view`, with `has_more`. */
export async function numberedList<T extends { id: string }>(
  core: Core,
  actor: Actor,
  kind: NumberedKind,
  page: NumberPage,
  all: readonly T[],
  view: (item: T, id: number) => unknown,
): Promise<unknown> {
  const numbers = await core.numbers.numbers(
    kind,
    actor.organizationId,
    all.map((i) => i.id),
  );
  const { items, hasMore } = pageItems(all, (i) => numbers.get(i.id)!, page);
  const data = [];
  for (const item of items) data.push(await view(item, numbers.get(item.id)!));
  return { data, has_more: hasMore };
}
