import { CompiledQuery, type DialectAdapter, type InsertQueryBuilder, type InsertResult, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Schema } from './schema.js';

type Tx = Kysely<Schema> | Transaction<Schema>;
type Table = keyof Schema & string;

interface Shape {
  sql: string;
  /** Parameters the modifier adds after the rows' (constants such as a producer name). */
  tail: readonly unknown[];
}

/** What `insertMany` may add to its statement (ON CONFLICT…): a module-level function, independent of the rows. */
export type InsertModifier<T extends Table> = (qb: InsertQueryBuilder<Schema, T, InsertResult>) => InsertQueryBuilder<Schema, T, InsertResult>;

/** Compiled statement texts by database adapter, then by table, column list, row count and modifier. */
const shapes = new WeakMap<DialectAdapter, Map<string, Shape>>();

/** A number per modifier function, for the cache key: module-level modifiers keep theirs for the process's life. */
const modifierIds = new WeakMap<object, number>();
let nextModifierId = 1;
function modifierId(f: object): number {
  const known = modifierIds.get(f);
  if (known !== undefined) return known;
  modifierIds.set(f, nextModifierId);
  return nextModifierId++;
}

/**
 * A multi-row insert whose SQL text Kysely builds once per table, column
 * list and row count; later calls bind new rows to the same text. Building
 * a 100-row statement's syntax tree and compiling it cost more than
 * executing it (measured: ~8% of a PuppetDB command's processing). Every row
 * must have the same columns (none undefined), and `modify` (ON CONFLICT…) must
 * not depend on the rows: a module-level function, whose parameters are kept
 * from the first call.
 */
export async function insertMany<T extends Table>(db: Tx, table: T, rows: Array<Insertable<Schema[T]>>, modify?: InsertModifier<T>): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const values: unknown[] = [];
  for (const r of rows as Array<Record<string, unknown>>) {
    if (Object.keys(r).length !== columns.length) throw new Error(`insertMany(${table}): every row must have the columns ${columns.join(', ')}`);
    for (const c of columns) {
      const v = r[c];
      if (v === undefined) throw new Error(`insertMany(${table}): every row must have the columns ${columns.join(', ')}`);
      values.push(v);
    }
  }
  const adapter = db.getExecutor().adapter;
  let byKey = shapes.get(adapter);
  if (!byKey) shapes.set(adapter, (byKey = new Map()));
  const key = `${table}\u0000${rows.length}\u0000${columns.join(',')}\u0000${modify ? modifierId(modify) : ''}`;
  let shape = byKey.get(key);
  if (!shape) {
    const builder = db.insertInto(table).values(rows as never) as unknown as InsertQueryBuilder<Schema, T, InsertResult>;
    const compiled = (modify ? modify(builder) : builder).compile();
    const head = compiled.parameters.slice(0, values.length);
    if (head.length !== values.length || head.some((p, i) => p !== values[i]))
      throw new Error(`insertMany(${table}): the compiled parameters are not the rows' values in column order`);
    shape = { sql: compiled.sql, tail: compiled.parameters.slice(values.length) };
    byKey.set(key, shape);
  }
  await db.executeQuery(CompiledQuery.raw(shape.sql, [...values, ...shape.tail]));
}
