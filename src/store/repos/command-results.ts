import { sql, type Kysely } from 'kysely';
import type { CommandResultQuery, CommandResultRecord, CommandResultStore, CommandResultSummary, ResultSortField } from '../../core/commands/index.js';
import type { RunState } from '../../core/jobs/index.js';
import type { Schema } from '../schema.js';

/** Command results are ended runs of jobs launched from a saved script, minus those deleted through the API. */
function resultsQuery(db: Kysely<Schema>, organizationId: string) {
  return db
    .selectFrom('runs')
    .innerJoin('jobs', 'jobs.id', 'runs.job_id')
    .leftJoin('scripts', 'scripts.id', 'jobs.script_id')
    .leftJoin('systems', 'systems.id', 'runs.system_id')
    .where('runs.organization_id', '=', organizationId)
    .where('jobs.script_id', 'is not', null)
    .where('runs.ended_at', 'is not', null)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('hidden_command_results as h').select('h.run_id').whereRef('h.run_id', '=', 'runs.id'))));
}

const SUMMARY_COLUMNS = [
  'runs.id as run_id',
  'runs.job_id',
  'runs.organization_id',
  'jobs.script_id',
  'scripts.name as script_name',
  'jobs.content',
  'jobs.run_as',
  'runs.system_id',
  'systems.hostname',
  'runs.state',
  'runs.exit_code',
  'runs.reason',
  'runs.created_at',
  'runs.finished_at',
  'runs.ended_at',
] as const;
const COLUMNS = [...SUMMARY_COLUMNS, 'runs.stdout', 'runs.stderr'] as const;

type SummaryRow = {
  run_id: string;
  job_id: string;
  organization_id: string;
  script_id: string | null;
  script_name: string | null;
  content: string;
  run_as: string | null;
  system_id: string;
  hostname: string | null;
  state: string;
  exit_code: number | null;
  reason: string | null;
  created_at: string;
  finished_at: string | null;
  ended_at: string | null;
};
type Row = SummaryRow & { stdout: string; stderr: string };

/** Sort keys → columns; a result is finished when its run ended, whether or not the agent said when. */
const SORT_COLUMNS: Record<ResultSortField, string> = {
  runId: 'runs.id',
  commandId: 'jobs.script_id',
  commandName: 'scripts.name',
  systemId: 'runs.system_id',
  hostname: 'systems.hostname',
  exitCode: 'runs.exit_code',
  createdAt: 'runs.created_at',
  finishedAt: 'runs.ended_at',
};

function toSummary(r: SummaryRow): CommandResultSummary {
  return {
    runId: r.run_id,
    jobId: r.job_id,
    organizationId: r.organization_id,
    commandId: r.script_id ?? '',
    commandName: r.script_name ?? '',
    content: r.content,
    runAs: r.run_as,
    systemId: r.system_id,
    hostname: r.hostname ?? '',
    state: r.state as RunState,
    exitCode: r.exit_code === null ? null : Number(r.exit_code),
    reason: r.reason,
    createdAt: r.created_at,
    finishedAt: r.finished_at ?? r.ended_at,
  };
}

function toRecord(r: Row): CommandResultRecord {
  return { ...toSummary(r), stdout: r.stdout, stderr: r.stderr };
}

/** One page of results with the given columns, and how many match in all. */
async function page<C extends readonly string[]>(
  db: Kysely<Schema>,
  organizationId: string,
  q: CommandResultQuery,
  columns: C,
): Promise<{ total: number; rows: unknown[] }> {
  let base = resultsQuery(db, organizationId);
  if (q.commandId !== undefined) base = base.where('jobs.script_id', '=', q.commandId);
  const count = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  let rows = base.select(columns as unknown as typeof COLUMNS);
  const sort = q.sort && q.sort.length > 0 ? q.sort : [{ field: 'createdAt' as const, desc: true }];
  // NULLS LAST on both databases, which otherwise disagree on where a missing exit code sorts.
  for (const s of sort) rows = rows.orderBy(sql.ref(SORT_COLUMNS[s.field]), (ob) => (s.desc ? ob.desc() : ob.asc()).nullsLast());
  return { total: Number(count?.n ?? 0), rows: await rows.orderBy('runs.id').limit(q.limit).offset(q.skip).execute() };
}

/** Command results and the group lookups of command bindings, on Kysely. */
export function commandResultStore(db: Kysely<Schema>): CommandResultStore {
  return {
    async listResults(organizationId, query) {
      const { total, rows } = await page(db, organizationId, query, COLUMNS);
      return { total, items: (rows as Row[]).map(toRecord) };
    },
    async listResultSummaries(organizationId, query) {
      const { total, rows } = await page(db, organizationId, query, SUMMARY_COLUMNS);
      return { total, items: (rows as SummaryRow[]).map(toSummary) };
    },
    async getResult(organizationId, runId) {
      const row = await resultsQuery(db, organizationId).where('runs.id', '=', runId).select(COLUMNS).executeTakeFirst();
      return row && toRecord(row as Row);
    },
    async hideResult(organizationId, runId, at) {
      const r = await db
        .insertInto('hidden_command_results')
        .values({ run_id: runId, organization_id: organizationId, hidden_at: at })
        .onConflict((oc) => oc.column('run_id').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async existingGroupIds(organizationId, ids) {
      if (ids.length === 0) return [];
      const rows = await db.selectFrom('groups').select('id').where('organization_id', '=', organizationId).where('id', 'in', ids).execute();
      return rows.map((r) => r.id);
    },
    async groupMembers(organizationId, groups) {
      if (groups.length === 0) return [];
      const rows = await db
        .selectFrom('group_members')
        .innerJoin('groups', 'groups.id', 'group_members.group_id')
        .select(['groups.id as group_id', 'group_members.system_id'])
        .where('groups.organization_id', '=', organizationId)
        .where((eb) => eb.or([eb('groups.id', 'in', groups), eb('groups.name', 'in', groups)]))
        .orderBy('groups.id')
        .orderBy('group_members.system_id')
        .execute();
      return rows.map((r) => ({ groupId: r.group_id, systemId: r.system_id }));
    },
  };
}
