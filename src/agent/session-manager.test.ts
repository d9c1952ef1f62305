import { EventEmitter, once } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AgentMessage, Unversioned } from '../protocol/messages.js';
import { SessionManager } from './session-manager.js';
import { loadPty } from './session-shell.js';

/** The server side of the link, recorded: what the manager sends, decoded, with an event per message. */
class Recorder extends EventEmitter {
  readonly messages: Unversioned<AgentMessage>[] = [];
  output = '';
  send = (m: Unversioned<AgentMessage>): boolean => {
    this.messages.push(m);
    if (m.type === 'session.output') this.output += Buffer.from(m.data, 'base64').toString();
    this.emit('message', m);
    return true;
  };

  /** Resolves once the output so far matches `re`. */
  async outputMatches(re: RegExp): Promise<void> {
    while (!re.test(this.output)) await once(this, 'message');
  }

  async next<T extends Unversioned<AgentMessage>['type']>(type: T): Promise<Extract<Unversioned<AgentMessage>, { type: T }>> {
    for (;;) {
      const found = this.messages.find((m) => m.type === type);
      if (found) return found as Extract<Unversioned<AgentMessage>, { type: T }>;
      await once(this, 'message');
    }
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const logger = pino({ level: 'silent' });
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', PS1: '$ ' };

describe('agent sessions', () => {
  it('runs a shell on a PTY: input, output, resize and exit status', async () => {
    expect(typeof (await loadPty())).not.toBe('string');
    const link = new Recorder();
    const sessions = new SessionManager({ env, send: link.send, logger, killGraceMs: 1000 });
    sessions.open({ type: 'session.open', session_id: 's1', run_as: null, cols: 80, rows: 24, window: 1 << 20 });
    expect(await link.next('session.opened')).toMatchObject({ pty: true, notice: null });
    sessions.input('s1', b64('echo $((6*7))\n'));
    await link.outputMatches(/^42\r?$/m);
    sessions.resize('s1', 100, 31);
    sessions.input('s1', b64('stty size\n'));
    await link.outputMatches(/31 100/);
    sessions.input('s1', b64('exit 3\n'));
    expect(await link.next('session.exit')).toMatchObject({ exit_code: 3, signal: null, error: null });
    expect(sessions.size).toBe(0);
  });

  it('falls back to a pipe-based shell, saying so, when node-pty cannot load', async () => {
    const link = new Recorder();
    const sessions = new SessionManager({
      env,
      send: link.send,
      logger,
      killGraceMs: 1000,
      ptyLoader: async () => Promise.reject(new Error('no native build')),
    });
    sessions.open({ type: 'session.open', session_id: 's2', run_as: null, cols: 80, rows: 24, window: 1 << 20 });
    const opened = await link.next('session.opened');
    expect(opened.pty).toBe(false);
    expect(opened.notice).toMatch(/node-pty cannot be loaded here \(no native build\); this is a pipe-based shell/);
    sessions.input('s2', b64('echo $((6*7))\n'));
    await link.outputMatches(/42/);
    sessions.input('s2', b64('exit 5\n'));
    expect(await link.next('session.exit')).toMatchObject({ exit_code: 5 });
  });

  it('stops reading the shell once its credit is spent, and resumes on credit', async () => {
    const link = new Recorder();
    const sessions = new SessionManager({ env, send: link.send, logger, killGraceMs: 1000 });
    sessions.open({ type: 'session.open', session_id: 's3', run_as: null, cols: 80, rows: 24, window: 4096 });
    await link.next('session.opened');
    // About 2 MB of output against a 4 KiB window.
    sessions.input('s3', b64('yes muster | head -c 2000000; echo; echo DO""NE\n'));
    await link.outputMatches(/muster/);
    // Let the PTY run: with no credit, what was sent stays near the window, not the 2 MB.
    await new Promise((r) => setTimeout(r, 300));
    const sent = () =>
      link.messages.filter((m) => m.type === 'session.output').reduce((n, m) => n + Buffer.from((m as { data: string }).data, 'base64').length, 0);
    expect(sent()).toBeLessThan(4096 + 64 * 1024);
    const credit = setInterval(() => sessions.credit('s3', 1 << 20), 5);
    await link.outputMatches(/DONE/);
    clearInterval(credit);
    expect(sent()).toBeGreaterThan(2_000_000);
    sessions.close('s3', 'test over');
    expect(await link.next('session.exit')).toMatchObject({ signal: 'SIGHUP' });
  });

  it('closing a session kills its shell and what the shell started', async () => {
    const link = new Recorder();
    const sessions = new SessionManager({ env, send: link.send, logger, killGraceMs: 500 });
    sessions.open({ type: 'session.open', session_id: 's4', run_as: null, cols: 80, rows: 24, window: 1 << 20 });
    await link.next('session.opened');
    sessions.input('s4', b64("trap '' HUP; sleep 600 & echo CHILD=$!\n"));
    await link.outputMatches(/CHILD=\d+/);
    const child = Number(/CHILD=(\d+)/.exec(link.output)![1]);
    sessions.closeAll('the agent lost its connection to the server');
    await link.next('session.exit');
    const alive = () => {
      try {
        process.kill(child, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive()).toBe(false);
  });
});
