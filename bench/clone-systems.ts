import { join } from 'node:path';
import Database from 'better-sqlite3';

/** Copies enrolled systems in the server's SQLite database (WAL: beside the server) until there are `total`; answers every id. */
export function cloneSystems(dataDir: string, total: number): string[] {
  const db = new Database(join(dataDir, 'muster.db'));
  try {
    db.pragma('busy_timeout = 10000');
    const columns = (db.prepare('PRAGMA table_info(systems)').all() as Array<{ name: string }>).map((c) => c.name);
    const have = (db.prepare('SELECT count(*) AS n FROM systems').get() as { n: number }).n;
    // Each copy: a fresh 24-hex id, its own hostname, display name and key; every other column as enrolled.
    const copied: Record<string, string> = {
      id: "printf('%024x', 1000000000 + n)",
      hostname: "'sim-' || n",
      display_name: "'sim-' || n",
      public_key: "public_key || '#' || n",
      certname: 'NULL',
    };
    const select = columns.map((c) => copied[c] ?? c).join(', ');
    db.prepare(
      `WITH RECURSIVE seq(n) AS (SELECT ${have} UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ${total})
       INSERT INTO systems (${columns.join(', ')}) SELECT ${select} FROM seq, (SELECT * FROM systems LIMIT 1)`,
    ).run();
    return (db.prepare('SELECT id FROM systems ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id);
  } finally {
    db.close();
  }
}
