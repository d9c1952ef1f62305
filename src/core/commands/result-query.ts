import { invalid } from '../errors.js';
import { RESULT_SORT_FIELDS, type CommandResultQuery, type ResultSortField } from './store.js';

/** What a caller may ask of a result listing; unset paging is the first 100. */
export interface ResultListOptions {
  commandId?: string;
  limit?: number;
  skip?: number;
  sort?: Array<{ field: string; desc: boolean }>;
}

/** Bounds of a result listing: a page holds 1 to 1000 results. */
const MAX_RESULT_PAGE = 1000;
const MAX_SORT_KEYS = 8;

/** Checks paging and sort keys (only own, known field names), naming the limit a value breaks. */
export function checkResultQuery(options: ResultListOptions): CommandResultQuery {
  const limit = options.limit ?? 100;
  const skip = options.skip ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RESULT_PAGE) throw invalid('limit', `must be an integer from 1 to ${MAX_RESULT_PAGE}`);
  if (!Number.isInteger(skip) || skip < 0) throw invalid('skip', 'must be a non-negative integer');
  const sort = options.sort ?? [];
  if (sort.length > MAX_SORT_KEYS) throw invalid('sort', `must name at most ${MAX_SORT_KEYS} fields`);
  for (const key of sort) {
    if (!(RESULT_SORT_FIELDS as readonly string[]).includes(key.field)) throw invalid('sort', `cannot sort on ${String(key.field)}`);
  }
  return {
    ...(options.commandId !== undefined ? { commandId: options.commandId } : {}),
    limit,
    skip,
    sort: sort.map((key) => ({ field: key.field as ResultSortField, desc: key.desc === true })),
  };
}
