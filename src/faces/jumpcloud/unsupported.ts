import { invalid } from '../../core/errors.js';

/** A field JumpCloud documents that muster cannot honour, the values that ask for nothing of it, and why. */
export interface Unsupported {
  accepts: readonly unknown[];
  why: string;
}

/**
 * Refuses (400, naming the field) a body that asks for something muster
 * cannot do, instead of dropping the field: JumpCloud's clients send these
 * fields with their empty values, which are accepted.
 */
export function refuseUnsupported(body: object, fields: Readonly<Record<string, Unsupported>>): void {
  for (const [key, value] of Object.entries(body)) {
    if (!Object.hasOwn(fields, key)) continue;
    const { accepts, why } = fields[key]!;
    if (!accepts.some((v) => JSON.stringify(v) === JSON.stringify(value))) {
      const allowed = accepts.length > 0 ? ` (send ${accepts.map((v) => JSON.stringify(v)).join(' or ')}, or leave it out)` : ' (leave it out)';
      throw invalid(key, `${why}${allowed}`);
    }
  }
}
