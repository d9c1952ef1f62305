import { writeFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';

/**
 * A preload for a benchmark's server, to see which SQL statements its CPU
 * goes to (SQLite only: better-sqlite3 runs each statement on the event loop):
 *
 *   MUSTER_BENCH_SERVER_NODE_ARGS="--import=./dist/bench/sql-cpu.js" node dist/bench/run.js fanout …
 *
 * Adds up the CPU time (`process.cpuUsage`, so not the time the process waited
 * for a core) of every statement run, by its text with its placeholder lists
 * shortened, from the first `INSERT INTO "jobs"` on (the fan-out phase), and
 * writes the totals, largest first, to $MUSTER_BENCH_SQL_CPU_OUT (default
 * `sql-cpu.txt`) when the server exits.
 */
type Stat = { n: number; us: number };
const stats = new Map<string, Stat>();
let armed = false;

function shorten(text: string): string {
  return text
    .replace(/\?(\s*,\s*\?)+/g, '?…')
    .replace(/\(\?…\)(\s*,\s*\(\?…\))+/g, '(?…)…')
    .replace(/\s+/g, ' ')
    .slice(0, 220);
}

type Prepared = ReturnType<BetterSqlite3.Database['prepare']>;
const prepare = BetterSqlite3.prototype.prepare as (this: BetterSqlite3.Database, text: string) => Prepared;

BetterSqlite3.prototype.prepare = function (this: BetterSqlite3.Database, text: string): Prepared {
  if (!armed && /insert into "jobs"/i.test(text)) armed = true;
  const statement = prepare.call(this, text);
  const key = shorten(text);
  for (const method of ['run', 'all', 'get'] as const) {
    const original = (statement[method] as (...args: unknown[]) => unknown).bind(statement);
    (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const before = process.cpuUsage();
      try {
        return original(...args);
      } finally {
        if (armed) {
          const used = process.cpuUsage(before);
          const s = stats.get(key) ?? { n: 0, us: 0 };
          s.n++;
          s.us += used.user + used.system;
          stats.set(key, s);
        }
      }
    };
  }
  return statement;
} as typeof BetterSqlite3.prototype.prepare;

process.on('exit', () => {
  const rows = [...stats].sort((a, b) => b[1].us - a[1].us);
  const lines = rows.map(([text, s]) => `${(s.us / 1000).toFixed(1).padStart(9)} ms ${String(s.n).padStart(7)}× ${text}`);
  writeFileSync(process.env.MUSTER_BENCH_SQL_CPU_OUT ?? 'sql-cpu.txt', `${lines.join('\n')}\n`);
});
