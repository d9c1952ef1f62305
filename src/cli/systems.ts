import type { Command } from 'commander';
import type { System } from '../api/native/index.js';
import { action, clientFor, connectionOptions } from './context.js';
import { ago, out, outJson, table } from './output.js';

/** The systems table: ID, HOSTNAME, OS, ARCH, CONNECTED, LAST CONTACT, TAGS. */
export function systemsTable(items: readonly System[], now = Date.now()): string {
  return table(
    ['ID', 'HOSTNAME', 'OS', 'ARCH', 'CONNECTED', 'LAST CONTACT', 'TAGS'],
    items.map((s) => [s.id, s.hostname, s.os_release || s.os, s.arch, s.connected ? 'yes' : 'no', ago(s.last_contact, now), s.tags.join(',')]),
  );
}

/** `muster systems [--select EXPR] [--json]`. */
export function registerSystems(program: Command): void {
  connectionOptions(program.command('systems'))
    .description('list the managed systems (or preview which ones a selector picks)')
    .option('--select <expr>', 'only systems this selector matches, e.g. "tag:web and not hostname:canary"')
    .option('--json', 'print the systems as a JSON array')
    .action(
      action(async (opts: { json?: boolean; select?: string }, command: Command) => {
        const query = opts.select ? `?select=${encodeURIComponent(opts.select)}` : '';
        const items = await clientFor(command).list<System>(`/v1/systems${query}`);
        if (opts.json) return outJson(items);
        if (items.length === 0) return out(opts.select ? 'no system matches' : 'no systems yet: enroll one with `muster agent enroll` (or run `muster start`)');
        out(systemsTable(items));
      }),
    );
}
