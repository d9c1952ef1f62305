import { invalid } from '../errors.js';

const TAG = /^[\w.:@/+-]{1,128}$/;

/** Tags: at most 50, each 1–128 characters of letters, digits and `_.:@/+-`; duplicates dropped. */
export function checkTags(value: unknown, field = 'tags'): string[] {
  if (!Array.isArray(value)) throw invalid(field, 'must be an array of strings');
  if (value.length > 50) throw invalid(field, 'must hold at most 50 tags');
  for (const [i, tag] of value.entries()) {
    if (typeof tag !== 'string' || !TAG.test(tag)) {
      throw invalid(`${field}[${i}]`, 'must be 1–128 characters of letters, digits and _.:@/+-');
    }
  }
  return [...new Set(value as string[])];
}
