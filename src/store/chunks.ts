/** Ids per IN list: far inside SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
const IDS_PER_STATEMENT = 500;

/** Splits big lists so no statement exceeds either database's bound-parameter limit. */
export function chunks<T>(items: readonly T[], size = IDS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
