/** Says once, up front, whether the PostgreSQL suites run. */
export default function setup(): void {
  if (!process.env.MUSTER_TEST_PG_URL) {
    process.stdout.write('\nMUSTER_TEST_PG_URL is not set: the PostgreSQL suites are skipped (SQLite suites run).\n\n');
  }
}
