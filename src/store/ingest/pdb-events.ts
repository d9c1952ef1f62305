import { sql } from 'kysely';
import type { IngestEventRow } from '../../core/ingest/query.js';
import type { DialectName } from '../dialect.js';
import { col, nodeScope, nodeState, ref, type Col, type Raw, type Row, type Source } from './pdb-columns.js';

/**
 * Resource events are read out of the stored reports, as facts are read out
 * of the stored facts (pdb-facts.ts): a report keeps its whole body, events
 * included, so nothing is derived when a report is stored. Report format 6
 * and later nest events in `resources[].events[]` (the resource's type,
 * title, file, line and containment path on the resource); format 5 lists
 * `resource_events[]` with those on each event. Both become one derived
 * table `e` with PuppetDB's event fields as columns, the same on both
 * databases, so the query compiler does not know which it runs on.
 */

/** How one database reads a JSON document held in a column: `e` is the event's, `r` the resource's, `b` the report body. */
interface JsonReads {
  text(doc: string, key: string): string;
  number(doc: string, key: string): string;
  bool(doc: string, key: string): string;
  json(doc: string, key: string): string;
  array(doc: string, key: string): string;
  containingClass(doc: string): string;
  /** The FROM of format 6+ (resources R, their events E) and of format 5 (events E, which are their own resources). */
  nested: { from: string; res: string; ev: string; ri: string; ei: string };
  flat: { from: string; ev: string; ei: string };
  /** The report body as this database reads JSON from it. */
  body: string;
  /** How a JSON column compares with a query's value, where text comparison would not do. */
  equalsJson?: (column: string, value: unknown) => Raw;
}

const SQLITE: JsonReads = {
  text: (d, k) => `json_extract(${d}, '$.${k}')`,
  number: (d, k) => `case when json_type(${d}, '$.${k}') in ('integer', 'real') then json_extract(${d}, '$.${k}') end`,
  bool: (d, k) => `case json_type(${d}, '$.${k}') when 'true' then 1 when 'false' then 0 end`,
  json: (d, k) => `case when json_type(${d}, '$.${k}') is not null then json_quote(json_extract(${d}, '$.${k}')) end`,
  array: (d, k) => `case when json_type(${d}, '$.${k}') = 'array' then json_extract(${d}, '$.${k}') end`,
  // The innermost class of the containment path: its last element that is not a resource (Type[title]) nor empty.
  containingClass: (d) =>
    `(select c.value from json_each(${d}, '$.containment_path') c where json_type(${d}, '$.containment_path') = 'array' and c.type = 'text' and c.value <> '' and instr(c.value, '[') = 0 order by c.key desc limit 1)`,
  nested: {
    from: `ingest_reports r, json_each(r.body, '$.resources') res, json_each(res.value, '$.events') ev
      where json_type(r.body, '$.resources') = 'array' and res.type = 'object' and json_type(res.value, '$.events') = 'array' and ev.type = 'object'`,
    res: 'res.value',
    ev: 'ev.value',
    ri: 'res.key',
    ei: 'ev.key',
  },
  flat: {
    from: `ingest_reports r, json_each(r.body, '$.resource_events') ev where json_type(r.body, '$.resource_events') = 'array' and ev.type = 'object'`,
    ev: 'ev.value',
    ei: 'ev.key',
  },
  body: 'r.body',
};

const arrayOf = (d: string, k: string) => `case when jsonb_typeof(${d} -> '${k}') = 'array' then ${d} -> '${k}' else '[]'::jsonb end`;

const POSTGRES: JsonReads = {
  text: (d, k) => `(${d} ->> '${k}')`,
  number: (d, k) => `case when jsonb_typeof(${d} -> '${k}') = 'number' then cast(${d} ->> '${k}' as double precision) end`,
  bool: (d, k) => `case jsonb_typeof(${d} -> '${k}') when 'boolean' then case when (${d} -> '${k}') = 'true'::jsonb then 1 else 0 end end`,
  json: (d, k) => `cast(${d} -> '${k}' as text)`,
  array: (d, k) => `case when jsonb_typeof(${d} -> '${k}') = 'array' then cast(${d} -> '${k}' as text) end`,
  containingClass: (d) =>
    `(select c.v #>> '{}' from jsonb_array_elements(${arrayOf(d, 'containment_path')}) with ordinality c(v, i)
      where jsonb_typeof(c.v) = 'string' and (c.v #>> '{}') <> '' and strpos(c.v #>> '{}', '[') = 0 order by c.i desc limit 1)`,
  nested: {
    from: `ingest_reports r
      cross join lateral jsonb_array_elements(${arrayOf('cast(r.body as jsonb)', 'resources')}) with ordinality res(value, i)
      cross join lateral jsonb_array_elements(${arrayOf('res.value', 'events')}) with ordinality ev(value, i)
      where jsonb_typeof(res.value) = 'object' and jsonb_typeof(ev.value) = 'object'`,
    res: 'res.value',
    ev: 'ev.value',
    ri: 'res.i',
    ei: 'ev.i',
  },
  flat: {
    from: `ingest_reports r cross join lateral jsonb_array_elements(${arrayOf('cast(r.body as jsonb)', 'resource_events')}) with ordinality ev(value, i)
      where jsonb_typeof(ev.value) = 'object'`,
    ev: 'ev.value',
    ei: 'ev.i',
  },
  body: 'cast(r.body as jsonb)',
  // PostgreSQL writes jsonb as text its own way ({"a": 1}); compare as jsonb there.
  equalsJson: (column, v) => sql`cast(${ref(column)} as jsonb) = cast(${JSON.stringify(v)} as jsonb)`,
};

const READS: Readonly<Record<DialectName, JsonReads>> = { sqlite: SQLITE, postgres: POSTGRES };

/** One branch of the derived table: the columns of each event, from event `ev` and resource `res`. */
function branch(j: JsonReads, body: string, ev: string, res: string, ri: string, ei: string, from: string): string {
  const cols = [
    'r.organization_id',
    'r.certname',
    'r.hash as report',
    'r.received_at as report_receive_time',
    'r.end_time as report_end',
    `${j.text(body, 'start_time')} as run_start_time`,
    `${j.text(body, 'end_time')} as run_end_time`,
    `${j.text(body, 'environment')} as environment`,
    `${j.text(body, 'configuration_version')} as configuration_version`,
    `${j.text(ev, 'status')} as status`,
    `${j.text(ev, 'timestamp')} as timestamp`,
    `${j.text(ev, 'property')} as property`,
    `${j.text(ev, 'name')} as name`,
    `${j.text(ev, 'message')} as message`,
    `${j.json(ev, 'new_value')} as new_value`,
    `${j.json(ev, 'old_value')} as old_value`,
    `${j.bool(ev, 'corrective_change')} as corrective_change`,
    `${j.text(res, 'resource_type')} as resource_type`,
    `${j.text(res, 'resource_title')} as resource_title`,
    `${j.text(res, 'file')} as file`,
    `${j.number(res, 'line')} as line`,
    `${j.array(res, 'containment_path')} as containment_path`,
    `${j.containingClass(res)} as containing_class`,
    `${ri} as ri`,
    `${ei} as ei`,
  ];
  return `select ${cols.join(', ')} from ${from}`;
}

function derived(j: JsonReads): Raw {
  const nested = branch(j, j.body, j.nested.ev, j.nested.res, j.nested.ri, j.nested.ei, j.nested.from);
  const flat = branch(j, j.body, j.flat.ev, j.flat.ev, '0', j.flat.ei, j.flat.from);
  // Only constant SQL here: nothing of a query or a report is spliced into it.
  return sql.raw(`(${nested} union all ${flat}) e left join ingest_nodes n on n.organization_id = e.organization_id and n.certname = e.certname`);
}

const json = (text: unknown): unknown => (text === null || text === undefined ? null : JSON.parse(String(text)));

/** The events source for one database. */
export function eventsSource(dialect: DialectName): Source<'events'> {
  const j = READS[dialect];
  const { equalsJson } = j;
  const jsonCol = (name: string): Col => ({ ...col('json', `e.${name}`), ...(equalsJson ? { equalsJson: (v: unknown) => equalsJson(`e.${name}`, v) } : {}) });
  const fields: Record<string, Col> = {
    certname: col('text', 'e.certname'),
    report: col('text', 'e.report'),
    status: col('text', 'e.status'),
    timestamp: col('timestamp', 'e.timestamp'),
    run_start_time: col('timestamp', 'e.run_start_time'),
    run_end_time: col('timestamp', 'e.run_end_time'),
    report_receive_time: col('timestamp', 'e.report_receive_time'),
    resource_type: col('text', 'e.resource_type'),
    resource_title: col('text', 'e.resource_title'),
    property: col('text', 'e.property'),
    name: col('text', 'e.name'),
    new_value: jsonCol('new_value'),
    old_value: jsonCol('old_value'),
    message: col('text', 'e.message'),
    file: col('text', 'e.file'),
    line: col('number', 'e.line'),
    containing_class: col('text', 'e.containing_class'),
    containment_path: jsonCol('containment_path'),
    corrective_change: col('boolean', 'e.corrective_change', 'bit'),
    'latest_report?': { type: 'boolean', sql: sql`case when n.latest_report_hash = e.report then 1 else 0 end`, storage: 'bit' },
    environment: col('text', 'e.environment'),
    configuration_version: col('text', 'e.configuration_version'),
    node_state: nodeState('n'),
  };
  return {
    from: derived(j),
    scope: (org, q) => [sql`e.organization_id = ${org}`, ...nodeScope('n', q)],
    facts: ref('n.facts'),
    field: (name) => fields[name],
    select: sql`e.*`,
    order: [ref('e.certname'), sql`e.report_end desc`, ref('e.report'), ref('e.ri'), ref('e.ei')],
    decode: (r: Row): IngestEventRow => ({
      certname: r.certname as string,
      report: r.report as string,
      status: (r.status ?? null) as string | null,
      timestamp: (r.timestamp ?? null) as string | null,
      run_start_time: (r.run_start_time ?? null) as string | null,
      run_end_time: (r.run_end_time ?? null) as string | null,
      report_receive_time: r.report_receive_time as string,
      resource_type: (r.resource_type ?? null) as string | null,
      resource_title: (r.resource_title ?? null) as string | null,
      property: (r.property ?? null) as string | null,
      name: (r.name ?? null) as string | null,
      new_value: json(r.new_value),
      old_value: json(r.old_value),
      message: (r.message ?? null) as string | null,
      file: (r.file ?? null) as string | null,
      line: r.line === null || r.line === undefined ? null : Number(r.line),
      containment_path: json(r.containment_path) as string[] | null,
      containing_class: (r.containing_class ?? null) as string | null,
      corrective_change: r.corrective_change === null || r.corrective_change === undefined ? null : Number(r.corrective_change) === 1,
      environment: (r.environment ?? null) as string | null,
      configuration_version: (r.configuration_version ?? null) as string | null,
    }),
  };
}
