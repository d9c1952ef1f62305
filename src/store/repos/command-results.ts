import type { Kysely } from 'kysely';
import type { CommandResultRecord, CommandResultStore } from '../../core/commands/index.js';
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

const COLUMNS = [
  'runs.id as run_id', 'runs.job_id', 'runs.organization_id', 'jobs.script_id', 'scripts.name as script_name', 'jobs.content', 'jobs.run_as', 'runs.system_id',
  'systems.hostname', 'runs.state', 'runs.exit_code', 'runs.stdout', 'runs.stderr', 'runs.reason', 'runs.created_at', 'runs.finished_at', 'runs.ended_at',
] as const;

type Row = {
  run_id: string; job_id: string; organization_id: string; script_id: string | null; script_name: string | null; content: string; run_as: string | null; system_id: string;
  hostname: string | null; state: string; exit_code: number | null; stdout: string; stderr: string; reason: string | null; created_at: string; finished_at: string | null; ended_at: string | null;
};

function toRecord(r: Row): CommandResultRecord {
  return {
    runId: r.run_id, jobId: r.job_id, organizationId: r.organization_id, commandId: r.script_id ?? '', commandName: r.script_name ?? '', content: r.content,
    runAs: r.run_as, systemId: r.system_id, hostname: r.hostname ?? '', state: r.state as RunState, exitCode: r.exit_code === null ? null : Number(r.exit_code),
    stdout: r.stdout, stderr: r.stderr, reason: r.reason, createdAt: r.created_at, finishedAt: r.finished_at ?? r.ended_at,
  };
}

/** Command results and the group lookups of command bindings, on Kysely. */
export function commandResultStore(db: Kysely<Schema>): CommandResultStore {
  return {
    async listResults(organizationId, { commandId, limit, skip }) {
      let q = resultsQuery(db, organizationId);
      if (commandId !== undefined) q = q.where('jobs.script_id', '=', commandId);
      const count = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
      const rows = await q.select(COLUMNS).orderBy('runs.created_at', 'desc').orderBy('runs.id').limit(limit).offset(skip).execute();
      return { total: Number(count?.n ?? 0), items: (rows as Row[]).map(toRecord) };
    },
    async getResult(organizationId, runId) {
      const row = await resultsQuery(db, organizationId).where('runs.id', '=', runId).select(COLUMNS).executeTakeFirst();
      return row && toRecord(row as Row);
    },
    async hideResult(organizationId, runId, at) {
      const r = await db.insertInto('hidden_command_results').values({ run_id: runId, organization_id: organizationId, hidden_at: at })
        .onConflict((oc) => oc.column('run_id').doNothing()).executeTakeFirst();
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
