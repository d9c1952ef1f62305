/** The kinds of entity a face may show with an integer id. */
export const NUMBERED_KINDS = ['script', 'job', 'system', 'group', 'run'] as const;
export type NumberedKind = (typeof NUMBERED_KINDS)[number];

/**
 * Storage of integer ids. Each kind has one sequence across organizations;
 * an entity keeps its number for as long as it exists, and a number is never
 * given to another entity.
 */
export interface NumberStore {
  /** Gives a number to every entity of `kind` in the organization that has none yet, oldest first. */
  numberAll(kind: NumberedKind, organizationId: string): Promise<void>;
  /** The numbers these entities already have, keyed by their id. */
  numbersOf(kind: NumberedKind, organizationId: string, ids: readonly string[]): Promise<Map<string, number>>;
  /** The entities these numbers name in the organization, keyed by number. */
  idsOf(kind: NumberedKind, organizationId: string, numbers: readonly number[]): Promise<Map<number, string>>;
}
