import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentPublicKey, coreFixture, FACTS, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import { createStores } from '../../store/index.js';
import type { Actor } from '../access/index.js';
import type { SessionLink } from './link.js';
import { SessionService } from './service.js';
import type { SessionEnd, SessionRecord } from './store.js';
import { TICKET_TTL_MS } from './tickets.js';

/** The agents' side, at the process boundary: every system is connected and every shell starts. */
class FakeLink implements SessionLink {
  readonly closed: Array<[string, SessionEnd]> = [];
  reach = async () => 'replica-a';
  open = async () => ({ ok: true as const, pty: true, notice: null });
  attach = async () => undefined;
  close = (session: SessionRecord, end: SessionEnd) => void this.closed.push([session.id, end]);
}

describe.each(DATABASES)('sessions in core on $name', ({ name, skip }) => {
  let f: CoreFixture;
  let sessions: SessionService;
  let link: FakeLink;
  let operator: Actor;
  const ids: Record<string, string> = {};

  beforeEach(async () => {
    if (skip) return;
    f = await coreFixture(name);
    link = new FakeLink();
    sessions = new SessionService(createStores(f.database).sessions, f.core.systems, createStores(f.database).audit, f.clock, () => link);
    const made = await f.core.keys.createApiKey(f.admin, { name: 'op', role: 'operator' });
    operator = await f.core.keys.authenticate(made.secret);
    for (const [host, ip, publicIp, tags] of [
      ['web-1', '10.10.24.5', '203.0.113.9', ['server']],
      ['web-2', '10.10.25.7', '198.51.100.24', ['server']],
    ] as const) {
      const system = await f.core.systems.enroll(
        f.enrollmentKey,
        { public_key: agentPublicKey(), facts: { ...FACTS, hostname: host, ip_addresses: [ip] }, tags: [...tags] },
        publicIp,
      );
      ids[host] = system.id;
    }
  });

  afterEach(async () => f?.close());

  it.skipIf(skip)('IP criteria tell private from public addresses', async () => {
    const byPrivate = await sessions.open(operator, { criteria: { private_ip: '10.10.24' } });
    expect(byPrivate.outcome === 'opened' && byPrivate.session.systemId).toBe(ids['web-1']);
    // 198.51.100.24 is web-2's public address, not a private one: only web-1 matches "10.10.24" privately, and nobody ".100.24" privately.
    await expect(sessions.open(operator, { criteria: { private_ip: '100.24' } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const byPublic = await sessions.open(operator, { criteria: { public_ip: '100.24' } });
    expect(byPublic.outcome === 'opened' && byPublic.session.systemId).toBe(ids['web-2']);
    const both = await sessions.open(operator, { criteria: { tag: 'SERV' } });
    expect(both.outcome === 'ambiguous' && both.candidates.map((c) => c.hostname).sort()).toEqual(['web-1', 'web-2']);
  });

  it.skipIf(skip)('audits open, choose, close and end by an admin with who, the criteria and the custom fields', async () => {
    await sessions.changeSettings(f.admin, { recordInput: false, customFields: ['ticket'] });
    const opened = await sessions.open(operator, { criteria: { tag: 'server' }, system_id: ids['web-2'], custom: { ticket: 'INC-7' } });
    if (opened.outcome !== 'opened') throw new Error('expected a session');
    await sessions.end(f.admin, opened.session.id);
    expect(link.closed).toEqual([[opened.session.id, expect.objectContaining({ reason: 'ended_by_admin' })]]);
    const second = await sessions.open(operator, { system_id: ids['web-1'] });
    if (second.outcome !== 'opened') throw new Error('expected a session');
    await sessions.ended(second.session.id, { reason: 'exited', message: 'the shell exited with status 0', endedBy: null, exitCode: 0, signal: null });
    // Ended once: a second end changes nothing and writes no event.
    expect(await sessions.ended(second.session.id, { reason: 'idle_timeout', message: 'x', endedBy: null, exitCode: null, signal: null })).toBeUndefined();
    const events = await f.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('target_type', '=', 'session')
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    // One instant on the fake clock: compared as a set.
    const actions = events.map((e) => [e.action, e.target_id === opened.session.id ? 'first' : 'second', e.actor]).sort();
    expect(actions).toEqual(
      [
        ['session.choose', 'first', operator.label],
        ['session.open', 'first', operator.label],
        ['session.end_by_admin', 'first', f.admin.label],
        ['session.open', 'second', operator.label],
        ['session.close', 'second', `system:${ids['web-1']}`],
      ].sort(),
    );
    const details = (action: string) => JSON.parse(events.find((e) => e.action === action)!.details);
    const choose = details('session.choose');
    expect(choose).toMatchObject({ criteria: { tag: 'server' }, custom: { ticket: 'INC-7' }, system_id: ids['web-2'] });
    expect(choose.candidates.sort()).toEqual([ids['web-1'], ids['web-2']].sort());
    expect(details('session.end_by_admin')).toMatchObject({ reason: 'ended_by_admin', opened_by: operator.label, custom: { ticket: 'INC-7' } });
  });

  it.skipIf(skip)("a session whose agent's connection moved to another replica, or to none, is swept as ended", async () => {
    await f.core.systems.agentConnected(ids['web-2']!, { ...FACTS, hostname: 'web-2' }, null, { replicaId: 'replica-a', leaseMs: 60_000 });
    const orphan = await sessions.open(operator, { system_id: ids['web-1'] });
    const held = await sessions.open(operator, { system_id: ids['web-2'] });
    const live = await sessions.open(operator, { system_id: ids['web-1'] });
    if (orphan.outcome !== 'opened' || held.outcome !== 'opened' || live.outcome !== 'opened') throw new Error('expected sessions');
    expect(orphan.session.replicaId).toBe('replica-a');
    // web-1 has no lease (no replica holds its agent); web-2's is replica-a's; `live` is live on the caller.
    expect(await sessions.sweepDetached(new Set([live.session.id]))).toBe(1);
    expect(await sessions.get(operator, orphan.session.id)).toMatchObject({ state: 'ended', endReason: 'agent_disconnected' });
    expect((await sessions.get(operator, held.session.id)).state).toBe('active');
    await f.core.systems.agentConnected(ids['web-2']!, { ...FACTS, hostname: 'web-2' }, null, { replicaId: 'replica-b', leaseMs: 60_000 });
    expect(await sessions.sweepDetached(new Set([live.session.id]))).toBe(1);
    expect((await sessions.get(operator, held.session.id)).endMessage).toMatch(/no longer connected to the server the session was opened on/);
    expect((await sessions.get(operator, live.session.id)).state).toBe('active');
  });

  it.skipIf(skip)('a ticket expires after five minutes', async () => {
    const { ticket } = await sessions.issueTicket(operator, { criteria: { hostname: 'web-1' } });
    f.clock.advance(TICKET_TTL_MS);
    await expect(sessions.open(operator, { ticket })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^ticket: expired at/),
    });
  });

  it.skipIf(skip)('viewers cannot open, operators cannot end what others opened, and limits bound a session', async () => {
    const viewer = await f.core.keys.authenticate((await f.core.keys.createApiKey(f.admin, { name: 'v', role: 'viewer' })).secret);
    await expect(sessions.open(viewer, { system_id: ids['web-1'] })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const opened = await sessions.open(f.admin, { system_id: ids['web-1'] });
    if (opened.outcome !== 'opened') throw new Error('expected a session');
    await expect(sessions.end(operator, opened.session.id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(sessions.open(operator, { system_id: ids['web-1'], idle_timeout_s: 24 * 3600 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'idle_timeout_s',
    });
    await expect(sessions.open(operator, { system_id: ids['web-1'], run_as: 'root; rm -rf /' })).rejects.toMatchObject({ field: 'run_as' });
  });
});
