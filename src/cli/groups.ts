import type { Command } from 'commander';
import type { Group, IdList } from '../api/native/index.js';
import { action, clientFor, connectionOptions, listCommand } from './context.js';
import { ago, out, outJson, table } from './output.js';

const enc = encodeURIComponent;

/** The groups table: ID, NAME, DESCRIPTION, CREATED. */
export function groupsTable(items: readonly Group[], now = Date.now()): string {
  return table(
    ['ID', 'NAME', 'DESCRIPTION', 'CREATED'],
    items.map((g) => [g.id, g.name, g.description, ago(g.created_at, now)]),
  );
}

/** `muster groups list|create|delete|members|add|remove`: named sets of systems (by id or name). */
export function registerGroups(program: Command): void {
  const groups = program.command('groups').description('groups of systems: list, create, delete, members, add, remove');
  listCommand<Group>(groups, {
    description: 'the groups of the organization',
    noun: 'groups',
    path: () => '/v1/groups',
    table: groupsTable,
    empty: 'no groups',
  });
  connectionOptions(groups.command('create <name>'))
    .option('--description <text>', 'what the group is for')
    .action(
      action(async (name: string, opts: { description?: string }, command: Command) => {
        const g = await clientFor(command).request<Group>('POST', '/v1/groups', {
          name,
          ...(opts.description === undefined ? {} : { description: opts.description }),
        });
        out(`created group ${g.name} (${g.id})`);
      }),
    );
  connectionOptions(groups.command('delete <group>')).action(
    action(async (group: string, _opts: unknown, command: Command) => {
      await clientFor(command).request('DELETE', `/v1/groups/${enc(group)}`);
      out(`deleted group ${group}`);
    }),
  );
  connectionOptions(groups.command('members <group>'))
    .description('list the ids of the systems in a group, one a line')
    .option('--json', 'print the ids as a JSON array')
    .action(
      action(async (group: string, opts: { json?: boolean }, command: Command) => {
        const { items } = await clientFor(command).request<IdList>('GET', `/v1/groups/${enc(group)}/members`);
        if (opts.json) return outJson(items);
        for (const id of items) out(id);
      }),
    );
  connectionOptions(groups.command('add <group> <system-ids...>')).action(
    action(async (group: string, ids: string[], _opts: unknown, command: Command) => {
      for (const id of ids) await clientFor(command).request('POST', `/v1/groups/${enc(group)}/members`, { system_id: id });
      out(`added ${ids.length} system(s) to ${group}`);
    }),
  );
  connectionOptions(groups.command('remove <group> <system-ids...>')).action(
    action(async (group: string, ids: string[], _opts: unknown, command: Command) => {
      for (const id of ids) await clientFor(command).request('DELETE', `/v1/groups/${enc(group)}/members/${enc(id)}`);
      out(`removed ${ids.length} system(s) from ${group}`);
    }),
  );
}
