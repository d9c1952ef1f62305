import type { Command } from 'commander';
import type { Session } from '../api/native/index.js';
import { CliError } from './client.js';
import { action, clientFor, connectionOptions, listCommand } from './context.js';
import { ago, out, table } from './output.js';

const enc = encodeURIComponent;

/** The sessions table: ID, SYSTEM, STATE, END, OPENED BY, OPENED. */
export function sessionsTable(items: readonly Session[], now = Date.now()): string {
  return table(
    ['ID', 'SYSTEM', 'STATE', 'END', 'OPENED BY', 'OPENED'],
    items.map((s) => [
      s.id,
      s.system_id,
      s.state,
      s.end_reason ? `${s.end_reason}${s.exit_code !== null ? ` (${s.exit_code})` : ''}` : '',
      s.opened_by,
      ago(s.created_at, now),
    ]),
  );
}

/** One session as `key: value` lines. */
export function sessionDetails(s: Session): string {
  const rows: Array<[string, unknown]> = [
    ['id', s.id],
    ['system', s.system_id],
    ['state', s.state],
    ['opened by', s.opened_by],
    ['run as', s.run_as ?? "(the agent's user)"],
    ['criteria', s.criteria ? JSON.stringify(s.criteria) : (s.selector ?? '(by id)')],
    ['custom', JSON.stringify(s.custom)],
    ['terminal', s.pty === null ? '' : s.pty ? 'pty' : `pipes: ${s.notice}`],
    ['opened', s.created_at],
    ['started', s.started_at ?? ''],
    ['ended', s.ended_at ?? ''],
    ['end', s.end_reason ? `${s.end_reason}: ${s.end_message}` : ''],
    ['exit code', s.exit_code ?? ''],
    ['signal', s.signal ?? ''],
  ];
  return rows.map(([k, v]) => `${`${k}:`.padEnd(11)}${String(v)}`).join('\n');
}

/** Asciicast v2 event lines, replayed to `write` with their timing (pauses capped at `maxWaitS`, sped up by `speed`). */
export async function play(cast: string, write: (text: string) => void, options: { speed: number; maxWaitS: number }): Promise<void> {
  const [header, ...lines] = cast.split('\n').filter((l) => l.trim() !== '');
  if (!header || (JSON.parse(header) as { version?: number }).version !== 2) throw new CliError('not an asciicast v2 recording');
  let last = 0;
  for (const line of lines) {
    const [t, kind, data] = JSON.parse(line) as [number, string, string];
    const wait = Math.min(Math.max(0, t - last), options.maxWaitS) / options.speed;
    last = t;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait * 1000));
    if (kind === 'o') write(data);
  }
}

/** `muster sessions list|show|end|play`. */
export function registerSessions(program: Command): void {
  const sessions = program.command('sessions').description('interactive sessions: list, show, end, play');
  listCommand<Session, { state?: string }>(sessions, {
    description: 'the sessions of the organization',
    noun: 'sessions',
    options: (list) => list.option('--state <state>', 'only opening, active or ended sessions'),
    path: (opts) => `/v1/sessions${opts.state ? `?state=${enc(opts.state)}` : ''}`,
    table: sessionsTable,
    empty: 'no sessions',
  });
  connectionOptions(sessions.command('show <session-id>'))
    .option('--json', 'print the session as JSON')
    .action(
      action(async (id: string, opts: { json?: boolean }, command: Command) => {
        const s = await clientFor(command).request<Session>('GET', `/v1/sessions/${enc(id)}`);
        out(opts.json ? JSON.stringify(s, null, 2) : sessionDetails(s));
      }),
    );
  connectionOptions(sessions.command('end <session-id>')).action(
    action(async (id: string, _opts: unknown, command: Command) => {
      const s = await clientFor(command).request<Session>('POST', `/v1/sessions/${enc(id)}/end`);
      out(`session ${s.id}: ${s.end_reason}${s.end_message ? ` (${s.end_message})` : ''}`);
    }),
  );
  connectionOptions(sessions.command('play <session-id>'))
    .option('--speed <factor>', 'play faster (2) or slower (0.5)', Number, 1)
    .option('--max-wait <seconds>', 'cap every pause at this', Number, 2)
    .option('--raw', 'print the asciicast file instead (for asciinema play)')
    .action(
      action(async (id: string, opts: { speed: number; maxWait: number; raw?: boolean }, command: Command) => {
        const cast = await clientFor(command).request<string>('GET', `/v1/sessions/${enc(id)}/recording`);
        if (opts.raw) return void process.stdout.write(cast);
        if (!(opts.speed > 0)) throw new CliError('--speed: expected a positive number', 2);
        await play(cast, (text) => process.stdout.write(text), { speed: opts.speed, maxWaitS: Math.max(0, opts.maxWait) });
      }),
    );
}
