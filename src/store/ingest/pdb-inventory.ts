import { sql } from 'kysely';
import type { DialectName } from '../dialect.js';
import { fromJson } from '../repos/json.js';
import { col, nodeScope, nodeState, ref, type Col, type Source } from './pdb-columns.js';
import { QUERY_DIALECTS } from './pdb-dialect.js';

/**
 * PuppetDB's inventory: one row per node with facts, its facts whole and the
 * trusted data among them (Puppet sends `trusted` as a fact). Dotted fields
 * (`facts.os.family`, `trusted.certname`) are compiled by the query compiler
 * as values inside `facts`.
 */
export function inventorySource(dialect: DialectName): Source<'inventory'> {
  const d = QUERY_DIALECTS[dialect];
  const fields: Record<string, Col> = {
    certname: col('text', 'n.certname'),
    timestamp: col('timestamp', 'n.facts_timestamp'),
    environment: col('text', 'n.facts_environment'),
    facts: { ...d.valueAt(ref('n.facts'), []), sql: ref('n.facts'), type: 'json' },
    trusted: { ...d.valueAt(ref('n.facts'), ['trusted']), type: 'json' },
    node_state: nodeState('n'),
  };
  return {
    from: sql`ingest_nodes n`,
    scope: (org, q) => [sql`n.organization_id = ${org}`, sql`n.facts is not null`, ...nodeScope('n', q)],
    facts: ref('n.facts'),
    field: (name) => fields[name],
    select: sql`n.certname, n.facts_timestamp, n.facts_environment, n.facts`,
    order: [ref('n.certname')],
    decode: (r) => {
      const facts = fromJson<Record<string, unknown>>(r.facts as string | null, {});
      return {
        certname: r.certname as string,
        timestamp: r.facts_timestamp as string,
        environment: r.facts_environment as string | null,
        facts,
        trusted: facts.trusted ?? null,
      };
    },
  };
}
