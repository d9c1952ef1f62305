import type { Command } from 'commander';
import type { User } from '../api/native/index.js';
import { action, clientFor, connectionOptions, listCommand } from './context.js';
import { out, table } from './output.js';

const enc = encodeURIComponent;

/** The users table: ID, USERNAME, NAME, EMAIL. */
export function usersTable(items: readonly User[]): string {
  return table(
    ['ID', 'USERNAME', 'NAME', 'EMAIL'],
    items.map((u) => [u.id, u.username, `${u.first_name} ${u.last_name}`.trim(), u.email]),
  );
}

/** `muster users list|create|delete|bind|unbind`: system users and the systems they are bound to. */
export function registerUsers(program: Command): void {
  const users = program.command('users').description('system users: list, create, delete, bind, unbind');
  listCommand<User>(users, {
    description: 'the system users of the organization',
    noun: 'users',
    path: () => '/v1/users',
    table: usersTable,
    empty: 'no users',
  });
  connectionOptions(users.command('create <username>'))
    .option('--email <address>', 'e-mail address')
    .option('--first-name <name>', 'first name')
    .option('--last-name <name>', 'last name')
    .action(
      action(async (username: string, opts: { email?: string; firstName?: string; lastName?: string }, command: Command) => {
        const body = { username, email: opts.email, first_name: opts.firstName, last_name: opts.lastName };
        const u = await clientFor(command).request<User>('POST', '/v1/users', JSON.parse(JSON.stringify(body)));
        out(`created user ${u.username} (${u.id})`);
      }),
    );
  connectionOptions(users.command('delete <user-id>')).action(
    action(async (id: string, _opts: unknown, command: Command) => {
      await clientFor(command).request('DELETE', `/v1/users/${enc(id)}`);
      out(`deleted user ${id}`);
    }),
  );
  for (const [verb, method] of [
    ['bind', 'POST'],
    ['unbind', 'DELETE'],
  ] as const) {
    connectionOptions(users.command(`${verb} <user-id> <system-id>`)).action(
      action(async (id: string, systemId: string, _opts: unknown, command: Command) => {
        const client = clientFor(command);
        if (method === 'POST') await client.request('POST', `/v1/users/${enc(id)}/systems`, { system_id: systemId });
        else await client.request('DELETE', `/v1/users/${enc(id)}/systems/${enc(systemId)}`);
        out(`${verb === 'bind' ? 'bound' : 'unbound'} user ${id} ${verb === 'bind' ? 'to' : 'from'} system ${systemId}`);
      }),
    );
  }
}
