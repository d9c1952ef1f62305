import type { Command } from 'commander';
import type { IngestCommand, IngestCommandList } from '../api/native/index.js';
import { action, clientFor, connectionOptions } from './context.js';
import { ago, out, outJson, table } from './output.js';

/** The dead letter office table: ID, COMMAND, CERTNAME, RECEIVED, ATTEMPTS, ERROR. */
export function discardedTable(items: readonly IngestCommand[], now = Date.now()): string {
  return table(
    ['ID', 'COMMAND', 'CERTNAME', 'RECEIVED', 'ATTEMPTS', 'ERROR'],
    items.map((c) => [c.id, `${c.command} v${c.version}`, c.certname, ago(c.received_at, now), String(c.attempts), (c.error ?? '').slice(0, 80)]),
  );
}

/** `muster pdb discarded [show|retry|delete <id>]` and `muster pdb command <id>`: the ingest queue's dead letter office. */
export function registerPdb(program: Command): void {
  const pdb = program.command('pdb').description('PuppetDB-style ingest: command states and the dead letter office');
  const discarded = connectionOptions(pdb.command('discarded'))
    .description('list commands that failed (newest first)')
    .option('--limit <n>', 'how many', '100')
    .option('--json', 'print them as a JSON array')
    .action(
      action(async (opts: { limit: string; json?: boolean }, command: Command) => {
        const { items } = await clientFor(command).request<IngestCommandList>('GET', `/v1/ingest/discarded?limit=${encodeURIComponent(opts.limit)}`);
        if (opts.json) return outJson(items);
        out(items.length ? discardedTable(items) : 'the dead letter office is empty');
      }),
    );
  connectionOptions(discarded.command('show <id>'))
    .description('one discarded command: error, diagnostics and payload')
    .action(
      action(async (id: string, _opts: unknown, command: Command) => {
        outJson(await clientFor(command).request<IngestCommand>('GET', `/v1/ingest/commands/${encodeURIComponent(id)}`));
      }),
    );
  connectionOptions(discarded.command('retry <id>'))
    .description('send a discarded command back to the queue')
    .action(
      action(async (id: string, _opts: unknown, command: Command) => {
        await clientFor(command).request('POST', `/v1/ingest/discarded/${encodeURIComponent(id)}/retry`);
        out(`queued ${id} again`);
      }),
    );
  connectionOptions(discarded.command('delete <id>'))
    .description('delete a discarded command')
    .action(
      action(async (id: string, _opts: unknown, command: Command) => {
        await clientFor(command).request('DELETE', `/v1/ingest/discarded/${encodeURIComponent(id)}`);
        out(`deleted ${id}`);
      }),
    );
  connectionOptions(pdb.command('command <uuid>'))
    .description('the state of a submitted command (the uuid /pdb/cmd/v1 returned)')
    .action(
      action(async (id: string, _opts: unknown, command: Command) => {
        outJson(await clientFor(command).request<IngestCommand>('GET', `/v1/ingest/commands/${encodeURIComponent(id)}`));
      }),
    );
}
