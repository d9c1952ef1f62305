import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { MusterError } from '../core/errors.js';
import type { Selector } from '../core/selectors/index.js';
import type { Schema } from './schema.js';

type Eb = ExpressionBuilder<Schema, 'systems'>;

/** `%value%` for LIKE, with the wildcard characters in the value escaped (ESCAPE '\'). */
function contains(value: string): string {
  return `%${value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function like(column: Expression<unknown>, value: string): Expression<SqlBool> {
  return sql<SqlBool>`lower(${column}) like ${contains(value)} escape '\\'`;
}

function term(eb: Eb, key: string, value: string): Expression<SqlBool> {
  switch (key) {
    case 'id':
      return eb('systems.id', '=', value);
    case 'hostname':
      return like(eb.ref('systems.hostname'), value);
    case 'name':
      return like(eb.ref('systems.display_name'), value);
    case 'comments':
      return like(eb.ref('systems.description'), value);
    case 'os':
      return eb.or([like(eb.ref('systems.os'), value), like(eb.ref('systems.os_release'), value)]);
    case 'ip':
      return eb.or([like(eb.ref('systems.ip_addresses'), value), like(eb.ref('systems.public_ip'), value)]);
    case 'tag':
      return eb.exists(
        eb
          .selectFrom('system_tags')
          .select('system_tags.tag')
          .whereRef('system_tags.system_id', '=', 'systems.id')
          .where(like(sql.ref('system_tags.tag'), value)),
      );
    case 'group':
      // Groups are names, not text to search: exact (case-insensitive) name, or id.
      return eb.exists(
        eb
          .selectFrom('group_members')
          .innerJoin('groups', 'groups.id', 'group_members.group_id')
          .select('groups.id')
          .whereRef('group_members.system_id', '=', 'systems.id')
          .where((g) => g.or([g('groups.id', '=', value), g(g.fn('lower', ['groups.name']), '=', value.toLowerCase())])),
      );
    default:
      throw new MusterError('INVALID_ARGUMENT', `selector: unknown term ${key}:`, { field: 'selector' });
  }
}

/**
 * `fact:PATH=VALUE` (case-insensitive equality), `fact:PATH!=VALUE` (its
 * negation: systems without the fact match too) and `fact:PATH~REGEX` over the
 * latest ingested facts of the system's certname (its explicit certname, else
 * its hostname), on active nodes only: a deactivated node leaves selections
 * until new data reactivates it. muster_fact/muster_regexp are defined on both
 * databases (migration 0007-ingest, store/ingest/sqlite-functions.ts).
 */
function factTerm(eb: Eb, selector: Extract<Selector, { kind: 'fact' }>): Expression<SqlBool> {
  const value = sql<string | null>`muster_fact(ingest_nodes.facts, ${selector.path})`;
  const test = selector.op === '~' ? sql<SqlBool>`muster_regexp(${selector.value}, ${value})` : sql<SqlBool>`lower(${value}) = ${selector.value.toLowerCase()}`;
  const matches = eb.exists(
    eb
      .selectFrom('ingest_nodes')
      .select('ingest_nodes.certname')
      .whereRef('ingest_nodes.organization_id', '=', 'systems.organization_id')
      .where(sql<SqlBool>`lower(ingest_nodes.certname) = lower(coalesce(systems.certname, systems.hostname))`)
      .where('ingest_nodes.deactivated', 'is', null)
      .where(test),
  );
  return selector.op === '!=' ? eb.not(matches) : matches;
}

/**
 * Compiles a selector to a WHERE expression over `systems`. String terms match
 * partially and case-insensitively (as BeyondTrust's criteria do); `id:` and
 * `group:` match exactly. Runs in the database, so no selection loads every
 * system into memory.
 */
export function selectorWhere(eb: Eb, selector: Selector): Expression<SqlBool> {
  switch (selector.kind) {
    case 'all':
      return sql<SqlBool>`1 = 1`;
    case 'term':
      return term(eb, selector.key, selector.value);
    case 'fact':
      return factTerm(eb, selector);
    case 'and':
      return eb.and(selector.items.map((s) => selectorWhere(eb, s)));
    case 'or':
      return eb.or(selector.items.map((s) => selectorWhere(eb, s)));
    case 'not':
      return eb.not(selectorWhere(eb, selector.item));
  }
}
