import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Facts and fact contents are read from the stored facts documents
 * (store/ingest/pdb-facts.ts) instead of rows derived from them when stored:
 * those rows, ~130 per node in two indexed tables, made a "replace facts"
 * three times slower to process. PostgreSQL gets `muster_fact_leaves`, which
 * walks one top-level fact down to its leaves with their paths; SQLite has
 * `json_tree`. Append-only: never edit after release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ingest_fact_contents').execute();
  await db.schema.dropTable('ingest_facts').execute();
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // An empty map or array is a leaf; array positions are numbers in the path, as PuppetDB's fact-contents give them.
    await sql`create or replace function muster_fact_leaves(name text, doc jsonb) returns table(path jsonb, value jsonb) language sql immutable as $$
      with recursive walk(path, value) as (
        select jsonb_build_array(name), doc
        union all
        select walk.path || jsonb_build_array(child.k), child.v
        from walk cross join lateral (
          select to_jsonb(e.key) as k, e.value as v from jsonb_each(case when jsonb_typeof(walk.value) = 'object' then walk.value end) e
          union all
          select to_jsonb(a.i - 1), a.v from jsonb_array_elements(case when jsonb_typeof(walk.value) = 'array' then walk.value end) with ordinality a(v, i)
        ) child
      )
      select path, value from walk
      where jsonb_typeof(value) not in ('object', 'array') or value in ('{}'::jsonb, '[]'::jsonb) $$`.execute(db);
  }
}
