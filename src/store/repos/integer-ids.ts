import { sql, type Kysely } from 'kysely';
import type { NumberedKind, NumberStore } from '../../core/numbers/index.js';
import type { Schema } from '../schema.js';

/** The table each kind of entity lives in. */
const TABLES: Record<NumberedKind, 'scripts' | 'jobs' | 'systems' | 'groups' | 'runs'> = {
  script: 'scripts',
  job: 'jobs',
  system: 'systems',
  group: 'groups',
  run: 'runs',
};

/** Two replicas numbering at once may pick the same numbers: one wins, the other numbers again. */
const NUMBERING_ATTEMPTS = 5;

/**
 * Integer ids on Kysely. Numbers are given by one `INSERT … SELECT` per
 * kind and organization (the next after the kind's highest, in creation
 * order), so a list is numbered in one statement; a clash with a concurrent
 * numbering is skipped (`ON CONFLICT DO NOTHING`) and numbered again.
 */
export function integerIdStore(db: Kysely<Schema>): NumberStore {
  const unnumbered = (kind: NumberedKind, organizationId: string) =>
    sql`from ${sql.table(TABLES[kind])} t where t.organization_id = ${organizationId}
        and not exists (select 1 from integer_ids i where i.kind = ${kind} and i.native_id = t.id)`;
  const lookup = async (kind: NumberedKind, organizationId: string, by: 'native_id' | 'number', values: readonly (string | number)[]) =>
    values.length === 0
      ? []
      : db
          .selectFrom('integer_ids')
          .select(['native_id', 'number'])
          .where('kind', '=', kind)
          .where('organization_id', '=', organizationId)
          .where(by, 'in', [...values] as never[])
          .execute();
  return {
    async numberAll(kind, organizationId) {
      for (let attempt = 0; attempt < NUMBERING_ATTEMPTS; attempt++) {
        await sql`insert into integer_ids (kind, number, native_id, organization_id)
          select ${kind}, (select coalesce(max(n.number), 0) from integer_ids n where n.kind = ${kind}) + row_number() over (order by t.created_at, t.id), t.id, t.organization_id
          ${unnumbered(kind, organizationId)}
          on conflict do nothing`.execute(db);
        const left = await sql<{ n: number | string }>`select count(*) as n ${unnumbered(kind, organizationId)}`.execute(db);
        if (Number(left.rows[0]?.n ?? 0) === 0) return;
      }
    },
    async numbersOf(kind, organizationId, ids) {
      const rows = await lookup(kind, organizationId, 'native_id', ids);
      return new Map(rows.map((r) => [r.native_id, Number(r.number)]));
    },
    async idsOf(kind, organizationId, numbers) {
      const rows = await lookup(kind, organizationId, 'number', numbers);
      return new Map(rows.map((r) => [Number(r.number), r.native_id]));
    },
  };
}
