import type { Kysely, Selectable } from 'kysely';
import type { Schema } from '../schema.js';
import type { EndReason, SessionRecord, SessionState, SessionStore } from '../../core/sessions/index.js';

/** The tables of migration 0018. */
export interface SessionTable {
  id: string;
  organization_id: string;
  system_id: string;
  opened_by: string;
  replica_id: string | null;
  run_as: string | null;
  criteria: string | null;
  selector: string | null;
  custom: string;
  state: string;
  end_reason: string | null;
  end_message: string | null;
  ended_by: string | null;
  exit_code: number | null;
  signal: string | null;
  pty: number | null;
  notice: string | null;
  record_input: number;
  idle_timeout_s: number;
  max_duration_s: number;
  cols: number;
  rows: number;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
}

export interface SessionRecordingTable {
  session_id: string;
  seq: number;
  lines: string;
}

export interface SessionTicketTable {
  digest: string;
  organization_id: string;
  issued_to: string;
  criteria: string;
  custom: string;
  run_as: string | null;
  expires_at: string;
  used_at: string | null;
}

export interface SessionSettingsTable {
  organization_id: string;
  record_input: number;
  custom_fields: string;
}

export interface SessionSchema {
  sessions: SessionTable;
  session_recordings: SessionRecordingTable;
  session_settings: SessionSettingsTable;
  session_tickets: SessionTicketTable;
}

function toRecord(r: Selectable<SessionTable>): SessionRecord {
  return {
    id: r.id,
    organizationId: r.organization_id,
    systemId: r.system_id,
    openedBy: r.opened_by,
    replicaId: r.replica_id,
    runAs: r.run_as,
    criteria: r.criteria === null ? null : JSON.parse(r.criteria),
    selector: r.selector,
    custom: JSON.parse(r.custom),
    state: r.state as SessionState,
    endReason: r.end_reason as EndReason | null,
    endMessage: r.end_message,
    endedBy: r.ended_by,
    exitCode: r.exit_code === null ? null : Number(r.exit_code),
    signal: r.signal,
    pty: r.pty === null ? null : Boolean(r.pty),
    notice: r.notice,
    recordInput: Boolean(r.record_input),
    idleTimeoutS: Number(r.idle_timeout_s),
    maxDurationS: Number(r.max_duration_s),
    cols: Number(r.cols),
    rows: Number(r.rows),
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
  };
}

/** Sessions, their recordings and settings on Kysely. */
export function sessionStore(database: Kysely<Schema>): Omit<SessionStore, 'insertAttachTicket' | 'takeAttachTicket'> {
  // Its own tables, typed here rather than in the shared schema.
  const db = database as unknown as Kysely<SessionSchema>;
  return {
    async insertSession(s) {
      await db
        .insertInto('sessions')
        .values({
          id: s.id,
          organization_id: s.organizationId,
          system_id: s.systemId,
          opened_by: s.openedBy,
          replica_id: s.replicaId,
          run_as: s.runAs,
          criteria: s.criteria === null ? null : JSON.stringify(s.criteria),
          selector: s.selector,
          custom: JSON.stringify(s.custom),
          state: s.state,
          end_reason: s.endReason,
          end_message: s.endMessage,
          ended_by: s.endedBy,
          exit_code: s.exitCode,
          signal: s.signal,
          pty: s.pty === null ? null : Number(s.pty),
          notice: s.notice,
          record_input: Number(s.recordInput),
          idle_timeout_s: s.idleTimeoutS,
          max_duration_s: s.maxDurationS,
          cols: s.cols,
          rows: s.rows,
          created_at: s.createdAt,
          started_at: s.startedAt,
          ended_at: s.endedAt,
        })
        .execute();
    },
    async getSession(organizationId, id) {
      const row = await db.selectFrom('sessions').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async listSessions(organizationId, filter) {
      let q = db.selectFrom('sessions').selectAll().where('organization_id', '=', organizationId);
      if (filter.state) q = q.where('state', '=', filter.state);
      return (await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute()).map(toRecord);
    },
    async markActive(id, pty, notice, at) {
      const r = await db
        .updateTable('sessions')
        .set({ state: 'active', pty: Number(pty), notice, started_at: at })
        .where('id', '=', id)
        .where('state', '=', 'opening')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async endSession(id, end, at) {
      const row = await db
        .updateTable('sessions')
        .set({
          state: 'ended',
          end_reason: end.reason,
          end_message: end.message,
          ended_by: end.endedBy,
          exit_code: end.exitCode,
          signal: end.signal,
          ended_at: at,
        })
        .where('id', '=', id)
        .where('state', '<>', 'ended')
        .returningAll()
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async listUnfinished(limit) {
      return (await db.selectFrom('sessions').selectAll().where('state', '<>', 'ended').orderBy('created_at').limit(limit).execute()).map(toRecord);
    },
    async endUnfinished(end, at) {
      const r = await db
        .updateTable('sessions')
        .set({ state: 'ended', end_reason: end.reason, end_message: end.message, ended_by: end.endedBy, ended_at: at })
        .where('state', '<>', 'ended')
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async appendRecording(sessionId, seq, lines) {
      await db.insertInto('session_recordings').values({ session_id: sessionId, seq, lines }).execute();
    },
    async readRecording(sessionId) {
      const rows = await db.selectFrom('session_recordings').select('lines').where('session_id', '=', sessionId).orderBy('seq').execute();
      return rows.map((r) => r.lines).join('');
    },
    async insertTicket(t) {
      await db
        .insertInto('session_tickets')
        .values({
          digest: t.digest,
          organization_id: t.organizationId,
          issued_to: t.issuedTo,
          criteria: JSON.stringify(t.criteria),
          custom: JSON.stringify(t.custom),
          run_as: t.runAs,
          expires_at: t.expiresAt,
          used_at: t.usedAt,
        })
        .execute();
    },
    async getTicket(digest) {
      const r = await db.selectFrom('session_tickets').selectAll().where('digest', '=', digest).executeTakeFirst();
      return (
        r && {
          digest: r.digest,
          organizationId: r.organization_id,
          issuedTo: r.issued_to,
          criteria: JSON.parse(r.criteria),
          custom: JSON.parse(r.custom),
          runAs: r.run_as,
          expiresAt: r.expires_at,
          usedAt: r.used_at,
        }
      );
    },
    async useTicket(digest, at) {
      const r = await db.updateTable('session_tickets').set({ used_at: at }).where('digest', '=', digest).where('used_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async getSettings(organizationId) {
      const row = await db.selectFrom('session_settings').selectAll().where('organization_id', '=', organizationId).executeTakeFirst();
      return row && { recordInput: Boolean(row.record_input), customFields: JSON.parse(row.custom_fields) as string[] };
    },
    async putSettings(organizationId, settings) {
      const values = { record_input: Number(settings.recordInput), custom_fields: JSON.stringify(settings.customFields) };
      await db
        .insertInto('session_settings')
        .values({ organization_id: organizationId, ...values })
        .onConflict((oc) => oc.column('organization_id').doUpdateSet(values))
        .execute();
    },
  };
}
