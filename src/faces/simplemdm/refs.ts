import type { Actor, Core } from '../../core/index.js';
import { notFound } from '../../core/errors.js';
import type { NumberedKind } from '../../core/numbers/index.js';

/** What a kind is called in this face's messages. */
const WORDS: Record<NumberedKind, string> = { script: 'script', job: 'script job', system: 'device', group: 'group', run: 'log' };

/** The entities `refs` name (integer ids or muster's own ids); NOT_FOUND naming the first that names nothing in the organization. */
export async function resolveAll(core: Core, actor: Actor, kind: NumberedKind, refs: ReadonlyArray<string | number>): Promise<string[]> {
  const ids = await core.numbers.resolve(kind, actor.organizationId, refs);
  const missing = ids.findIndex((id) => id === undefined);
  if (missing >= 0) throw notFound(WORDS[kind], String(refs[missing]));
  return [...new Set(ids as string[])];
}

/** The entity one reference names. */
export async function resolveOne(core: Core, actor: Actor, kind: NumberedKind, ref: string | number): Promise<string> {
  return (await resolveAll(core, actor, kind, [ref]))[0]!;
}

/** For filters: what the references name, a reference that names nothing matching nothing. */
export async function resolveForFilter(core: Core, actor: Actor, kind: NumberedKind, refs: ReadonlyArray<string | number>): Promise<string[]> {
  return (await core.numbers.resolve(kind, actor.organizationId, refs)).map((id) => id ?? '');
}
