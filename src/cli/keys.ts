import { Option, type Command } from 'commander';
import type { ApiKey, EnrollmentKey } from './api-types.js';
import { collect } from './args.js';
import { action, clientFor, connectionOptions } from './context.js';
import { ago, err, out, outJson, table } from './output.js';

/** The roles an API key can have. */
export const ROLES = ['admin', 'operator', 'viewer'] as const;

const state = (k: { revoked_at: string | null }) => (k.revoked_at ? 'revoked' : 'active');

/** The API keys table: ID, NAME, ROLE, PREFIX, CREATED, LAST USED, STATE. */
export function apiKeysTable(items: readonly ApiKey[], now = Date.now()): string {
  return table(
    ['ID', 'NAME', 'ROLE', 'PREFIX', 'CREATED', 'LAST USED', 'STATE'],
    items.map((k) => [k.id, k.name, k.role, `${k.prefix}…`, ago(k.created_at, now), ago(k.last_used_at, now), state(k)]),
  );
}

/** The enrollment keys table: ID, NAME, TAGS, PREFIX, CREATED, STATE. */
export function enrollmentKeysTable(items: readonly EnrollmentKey[], now = Date.now()): string {
  return table(
    ['ID', 'NAME', 'TAGS', 'PREFIX', 'CREATED', 'STATE'],
    items.map((k) => [k.id, k.name, k.tags.join(','), `${k.prefix}…`, ago(k.created_at, now), state(k)]),
  );
}

/** Prints a new secret on stdout (alone, so it can be captured) and the warning on stderr. */
function showSecret(created: { key: { id: string }; secret: string }, what: string, json: boolean): void {
  if (json) outJson(created);
  else out(created.secret);
  err(`created ${what} ${created.key.id}. The secret is shown only once: store it now; the server keeps only a hash.`);
}

interface KeyKind<K> {
  command: string;
  description: string;
  path: string;
  what: string;
  table: (items: readonly K[]) => string;
  createOptions: (create: Command) => Command;
  createBody: (opts: { name: string; role?: string; tag?: string[] }) => Record<string, unknown>;
}

function registerKind<K>(program: Command, kind: KeyKind<K>): void {
  const group = program.command(kind.command).description(kind.description);
  connectionOptions(group.command('list'))
    .option('--json', 'print the keys as a JSON array')
    .action(
      action(async (opts: { json?: boolean }, command: Command) => {
        const { items } = await clientFor(command).request<{ items: K[] }>('GET', kind.path);
        if (opts.json) return outJson(items);
        out(items.length ? kind.table(items) : 'no keys');
      }),
    );
  kind
    .createOptions(connectionOptions(group.command('create')).requiredOption('--name <name>', 'what the key is for'))
    .option('--json', 'print {key, secret} as JSON')
    .action(
      action(async (opts: { name: string; role?: string; tag?: string[]; json?: boolean }, command: Command) => {
        const created = await clientFor(command).request<{ key: { id: string }; secret: string }>('POST', kind.path, kind.createBody(opts));
        showSecret(created, kind.what, Boolean(opts.json));
      }),
    );
  connectionOptions(group.command('revoke <id>')).action(
    action(async (id: string, _opts: unknown, command: Command) => {
      await clientFor(command).request('DELETE', `${kind.path}/${encodeURIComponent(id)}`);
      out(`revoked ${kind.what} ${id}`);
    }),
  );
}

/** `muster keys list|create|revoke` (API keys) and `muster enrollment-keys list|create|revoke`. */
export function registerKeys(program: Command): void {
  registerKind<ApiKey>(program, {
    command: 'keys',
    description: 'API keys (admin): list, create, revoke',
    path: '/v1/api-keys',
    what: 'API key',
    table: apiKeysTable,
    createOptions: (c) => c.addOption(new Option('--role <role>', 'what the key may do').choices(ROLES).makeOptionMandatory()),
    createBody: (o) => ({ name: o.name, role: o.role }),
  });
  registerKind<EnrollmentKey>(program, {
    command: 'enrollment-keys',
    description: 'enrollment keys for agents (admin): list, create, revoke',
    path: '/v1/enrollment-keys',
    what: 'enrollment key',
    table: enrollmentKeysTable,
    createOptions: (c) => c.option('--tag <tag>', 'a tag given to systems enrolled with it (repeatable)', collect, [] as string[]),
    createBody: (o) => ({ name: o.name, ...(o.tag?.length ? { tags: o.tag } : {}) }),
  });
}
