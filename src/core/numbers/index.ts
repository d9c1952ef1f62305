import { isId } from '../ids.js';
import type { NumberedKind, NumberStore } from './store.js';

export { NUMBERED_KINDS, type NumberedKind, type NumberStore } from './store.js';

/** The longest run of digits read as a number: past it, a value is not a safe JSON integer. */
const MAX_DIGITS = 15;

/** The number a reference spells (a JSON integer or a string of digits), or undefined. */
export function asNumber(ref: unknown): number | undefined {
  if (typeof ref === 'number') return Number.isSafeInteger(ref) && ref > 0 ? ref : undefined;
  if (typeof ref === 'string' && /^\d+$/.test(ref) && ref.length <= MAX_DIGITS) {
    const n = Number(ref);
    return n > 0 ? n : undefined;
  }
  return undefined;
}

/**
 * Integer ids for faces whose clients expect numbers. Every entity of a kind
 * gets one the first time a face shows it or its organization's list; a
 * reference is either that number or the entity's own id.
 */
export class NumberService {
  constructor(private readonly store: NumberStore) {}

  /** The number of each entity, giving numbers to those of the organization that have none. */
  async numbers(kind: NumberedKind, organizationId: string, ids: readonly string[]): Promise<Map<string, number>> {
    const unique = [...new Set(ids)];
    let found = await this.store.numbersOf(kind, organizationId, unique);
    if (found.size < unique.length) {
      await this.store.numberAll(kind, organizationId);
      found = await this.store.numbersOf(kind, organizationId, unique);
    }
    return found;
  }

  /** The number of one entity (given one if it had none). */
  async numberOf(kind: NumberedKind, organizationId: string, id: string): Promise<number> {
    const n = (await this.numbers(kind, organizationId, [id])).get(id);
    if (n === undefined) throw new Error(`${kind} ${id} could not be numbered`);
    return n;
  }

  /** Gives numbers to every entity of the kind in the organization that has none (before paging by number). */
  async numberAll(kind: NumberedKind, organizationId: string): Promise<void> {
    await this.store.numberAll(kind, organizationId);
  }

  /**
   * The entity ids that references name, in order: a number (or its digits)
   * is looked up in the organization, an id of muster's own shape is taken as
   * it is (its existence is checked where it is used). Undefined for a
   * reference that names nothing.
   */
  async resolve(kind: NumberedKind, organizationId: string, refs: readonly unknown[]): Promise<Array<string | undefined>> {
    const numbers = refs.map(asNumber).filter((n): n is number => n !== undefined);
    const byNumber = numbers.length > 0 ? await this.store.idsOf(kind, organizationId, numbers) : new Map<number, string>();
    return refs.map((ref) => {
      const n = asNumber(ref);
      if (n !== undefined) return byNumber.get(n);
      return typeof ref === 'string' && isId(ref) ? ref : undefined;
    });
  }
}
