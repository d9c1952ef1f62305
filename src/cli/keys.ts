import { InvalidArgumentError, Option, type Command } from 'commander';
import { ROLES, type ApiKey, type ApiKeyCreated, type EnrollmentKey, type EnrollmentKeyCreated } from '../api/native/index.js';
import { collect } from './args.js';
import { action, clientFor, connectionOptions, listCommand } from './context.js';
import { ago, err, out, outJson, table } from './output.js';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--expires`: an ISO 8601 instant, or a duration from now (`30m`, `12h`, `7d`), as an ISO instant. */
export function parseExpiry(value: string, now = Date.now()): string {
  const duration = /^(\d{1,6})([mhd])$/.exec(value.trim());
  if (duration) return new Date(now + Number(duration[1]) * UNIT_MS[duration[2]!]!).toISOString();
  const at = Date.parse(value);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}/.test(value))
    throw new InvalidArgumentError('expected an ISO 8601 instant (2027-01-31T12:00:00Z) or a duration like 30m, 12h, 7d');
  return new Date(at).toISOString();
}

function positiveInteger(value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new InvalidArgumentError('expected a whole number of at least 1');
  return Number(value);
}

const state = (k: { revoked_at: string | null }) => (k.revoked_at ? 'revoked' : 'active');

/** The API keys table: ID, NAME, ROLE, PREFIX, CREATED, LAST USED, STATE. */
export function apiKeysTable(items: readonly ApiKey[], now = Date.now()): string {
  return table(
    ['ID', 'NAME', 'ROLE', 'PREFIX', 'CREATED', 'LAST USED', 'STATE'],
    items.map((k) => [k.id, k.name, k.role, `${k.prefix}…`, ago(k.created_at, now), ago(k.last_used_at, now), state(k)]),
  );
}

/** An enrollment key's state: revoked, expired, used up, or active. */
function enrollmentState(k: EnrollmentKey, now: number): string {
  if (k.revoked_at) return 'revoked';
  if (k.expires_at && Date.parse(k.expires_at) <= now) return 'expired';
  if (k.max_uses !== null && k.uses >= k.max_uses) return 'used up';
  return 'active';
}

/** The enrollment keys table: ID, NAME, TAGS, GROUPS, USES, EXPIRES, PREFIX, CREATED, STATE. */
export function enrollmentKeysTable(items: readonly EnrollmentKey[], now = Date.now()): string {
  return table(
    ['ID', 'NAME', 'TAGS', 'GROUPS', 'USES', 'EXPIRES', 'PREFIX', 'CREATED', 'STATE'],
    items.map((k) => [
      k.id,
      k.name,
      k.tags.join(','),
      (k.group_ids ?? []).join(','),
      k.max_uses === null ? String(k.uses) : `${k.uses}/${k.max_uses}`,
      k.expires_at ?? '-',
      `${k.prefix}…`,
      ago(k.created_at, now),
      enrollmentState(k, now),
    ]),
  );
}

/** Prints a new secret on stdout (alone, so it can be captured) and the warning on stderr. */
function showSecret(created: { key: { id: string }; secret: string }, what: string, json: boolean): void {
  if (json) outJson(created);
  else out(created.secret);
  err(`created ${what} ${created.key.id}. The secret is shown only once: store it now; the server keeps only a hash.`);
}

interface CreateOptions {
  name: string;
  role?: string;
  tag?: string[];
  group?: string[];
  expires?: string;
  maxUses?: number;
}

interface KeyKind<K> {
  command: string;
  description: string;
  path: string;
  what: string;
  table: (items: readonly K[]) => string;
  createOptions: (create: Command) => Command;
  createBody: (opts: CreateOptions) => Record<string, unknown>;
}

function registerKind<K>(program: Command, kind: KeyKind<K>): void {
  const group = program.command(kind.command).description(kind.description);
  listCommand<K>(group, { description: `the ${kind.what}s of the organization`, noun: 'keys', path: () => kind.path, table: kind.table, empty: 'no keys' });
  kind
    .createOptions(connectionOptions(group.command('create')).requiredOption('--name <name>', 'what the key is for'))
    .option('--json', 'print {key, secret} as JSON')
    .action(
      action(async (opts: CreateOptions & { json?: boolean }, command: Command) => {
        const created = await clientFor(command).request<ApiKeyCreated | EnrollmentKeyCreated>('POST', kind.path, kind.createBody(opts));
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
    createOptions: (c) =>
      c
        .option('--tag <tag>', 'a tag given to systems enrolled with it (repeatable)', collect, [] as string[])
        .option('--group <group>', 'a group (id or name) that systems enrolled with it join (repeatable)', collect, [] as string[])
        .option('--expires <when>', 'when the key stops working: an ISO 8601 instant, or a duration like 30m, 12h, 7d', (v: string) => parseExpiry(v))
        .option('--max-uses <n>', 'how many systems may enroll with it', positiveInteger),
    createBody: (o) => ({
      name: o.name,
      ...(o.tag?.length ? { tags: o.tag } : {}),
      ...(o.group?.length ? { groups: o.group } : {}),
      ...(o.expires ? { expires_at: o.expires } : {}),
      ...(o.maxUses !== undefined ? { max_uses: o.maxUses } : {}),
    }),
  });
}
