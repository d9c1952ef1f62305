import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { SessionEnd, SessionRecord, SessionViewer } from '../core/sessions/index.js';
import type { ServerMessage, Unversioned } from '../protocol/messages.js';
import type { HubConnection } from './channel.js';
import type { ConnectionRegistry } from './connection-registry.js';
import { SessionChannel } from './session-channel.js';

/** An agent's connection at the process boundary: what the channel sends it, recorded. */
function fakeConnection(): HubConnection & { sent: Unversioned<ServerMessage>[] } {
  const sent: Unversioned<ServerMessage>[] = [];
  return { systemId: 'sys1', publicIp: null, activeRunIds: [], helloReceived: true, sent, send: (m) => void sent.push(m), close: () => undefined };
}

const SESSION = {
  id: 'sess1',
  systemId: 'sys1',
  runAs: null,
  cols: 80,
  rows: 24,
  idleTimeoutS: 60,
  maxDurationS: 60,
  notice: null,
  recordInput: false,
} as SessionRecord;

function setup() {
  const conn = fakeConnection();
  const ended: SessionEnd[] = [];
  const recorded: string[] = [];
  const channel = new SessionChannel({
    sessions: {
      ended: async (_id, end) => (ended.push(end), undefined),
      sweepDetached: async () => 0,
      recorder: () =>
        ({ output: (d: Buffer) => recorded.push(d.toString()), input: () => undefined, resize: () => undefined, flush: async () => undefined }) as never,
    },
    connections: { get: () => conn, ready: (ids: string[]) => ids } as unknown as ConnectionRegistry,
    replicaId: 'r1',
    logger: pino({ level: 'silent' }),
    windowBytes: 4096,
  });
  return { conn, ended, recorded, channel };
}

const output = (data: string, seq = 0) => ({ type: 'session.output', session_id: 'sess1', seq, data: Buffer.from(data).toString('base64') });

describe('the session channel', () => {
  it('credits output only once the viewer has taken it, and holds it while no viewer is attached', async () => {
    const { conn, channel, recorded } = setup();
    const opening = channel.open(SESSION);
    expect(conn.sent[0]).toMatchObject({ type: 'session.open', window: 4096 });
    await channel.handle(conn, { type: 'session.opened', session_id: 'sess1', pty: true, notice: null } as never);
    expect(await opening).toEqual({ ok: true, pty: true, notice: null });
    await channel.handle(conn, output('$ ') as never);
    expect(conn.sent.filter((m) => m.type === 'session.credit')).toEqual([]);
    const pending: Array<() => void> = [];
    const written: string[] = [];
    const viewer: SessionViewer = { write: (d, taken) => (written.push(d.toString()), pending.push(taken)), event: () => undefined, close: () => undefined };
    const attachment = channel.attach('sess1', viewer)!;
    expect(written).toEqual(['$ ']);
    await channel.handle(conn, output('42\r\n', 1) as never);
    expect(written).toEqual(['$ ', '42\r\n']);
    // A slow viewer: nothing taken yet, nothing credited.
    expect(conn.sent.filter((m) => m.type === 'session.credit')).toEqual([]);
    for (const taken of pending.splice(0)) taken();
    expect(conn.sent.filter((m) => m.type === 'session.credit')).toEqual([
      { type: 'session.credit', session_id: 'sess1', bytes: 2 },
      { type: 'session.credit', session_id: 'sess1', bytes: 4 },
    ]);
    expect(recorded).toEqual(['$ ', '42\r\n']);
    attachment.input(Buffer.from('x'.repeat(40_000)));
    const inputs = conn.sent.filter((m) => m.type === 'session.input');
    expect(inputs).toHaveLength(3);
  });

  it('an agent that disconnects ends its sessions and tells the viewer why', async () => {
    const { conn, channel, ended } = setup();
    const opening = channel.open(SESSION);
    await channel.handle(conn, { type: 'session.opened', session_id: 'sess1', pty: true, notice: null } as never);
    await opening;
    const events: unknown[] = [];
    let closed: number | undefined;
    channel.attach('sess1', { write: () => undefined, event: (e) => events.push(e), close: (code) => (closed = code) });
    channel.disconnected(conn);
    await new Promise((r) => setImmediate(r));
    expect(ended).toEqual([expect.objectContaining({ reason: 'agent_disconnected', message: 'the agent of system sys1 disconnected' })]);
    expect(events).toEqual([expect.objectContaining({ type: 'exit', reason: 'agent_disconnected' })]);
    expect(closed).toBe(1000);
    expect(channel.attach('sess1', { write: () => undefined, event: () => undefined, close: () => undefined })).toBeUndefined();
  });
});
