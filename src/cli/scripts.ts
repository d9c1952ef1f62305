import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { SHELLS, type Script } from '../api/native/index.js';
import { collect, positiveInteger } from './args.js';
import { usageError, type ApiClient } from './client.js';
import { action, clientFor, connectionOptions, listCommand } from './context.js';
import { ago, out, outJson, table } from './output.js';

/** The options `scripts add` and `scripts edit` share. */
export interface ScriptFlags {
  name?: string;
  file?: string;
  shell?: string;
  runAs?: string;
  timeout?: number;
  ttl?: number;
  select?: string;
  group: string[];
  system: string[];
}

/** Reads a whole stream (stdin) as UTF-8. */
export async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** A script's content: `--file PATH`, `--file -` for stdin, or stdin when it is not a terminal (when `stdinDefault`). */
export async function readContent(file: string | undefined, stdinDefault: boolean, stdin: NodeJS.ReadStream = process.stdin): Promise<string | undefined> {
  if (file !== undefined && file !== '-') {
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      throw usageError(`--file ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
  }
  if (file === '-' || (stdinDefault && !stdin.isTTY)) return readStream(stdin);
  return undefined;
}

/** The default targets the flags name, or undefined when they name none. */
export function targetsOf(flags: Pick<ScriptFlags, 'select' | 'group' | 'system'>): Record<string, unknown> | undefined {
  const systemIds = flags.system
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (!flags.select && flags.group.length === 0 && systemIds.length === 0) return undefined;
  return { system_ids: systemIds, group_ids: flags.group, selector: flags.select ?? null };
}

/** The POST/PATCH body for the flags given; fields whose flag is absent are left out. */
export function scriptBody(flags: ScriptFlags, content: string | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const fields: Record<string, unknown> = {
    name: flags.name,
    content,
    shell: flags.shell,
    run_as: flags.runAs,
    timeout_s: flags.timeout,
    ttl_s: flags.ttl,
    default_targets: targetsOf(flags),
  };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) body[key] = value;
  return body;
}

/** What a script's default targets say, in one short cell. */
export function targetsCell(t: Script['default_targets']): string {
  const parts = [
    ...(t.system_ids.length ? [`${t.system_ids.length} system(s)`] : []),
    ...t.group_ids.map((g) => `group:${g}`),
    ...(t.selector ? [t.selector] : []),
  ];
  return parts.join(', ') || '-';
}

/** The scripts table: ID, NAME, SHELL, TARGETS, UPDATED. */
export function scriptsTable(items: readonly Script[], now = Date.now()): string {
  return table(
    ['ID', 'NAME', 'SHELL', 'TARGETS', 'UPDATED'],
    items.map((s) => [s.id, s.name, s.shell, targetsCell(s.default_targets), ago(s.updated_at, now)]),
  );
}

const scriptPath = (idOrName: string) => `/v1/scripts/${encodeURIComponent(idOrName)}`;

/** A script by name or id; the API's PATCH and DELETE take ids only. */
async function resolve(client: ApiClient, idOrName: string): Promise<Script> {
  return client.request<Script>('GET', scriptPath(idOrName));
}

/** Adds the options of `scripts add` and `scripts edit` (and, with a prefix, `commands`). */
export function scriptOptions(command: Command): Command {
  return command
    .option('--file <path>', 'read the script from this file (- for stdin)')
    .addOption(new Option('--shell <shell>', 'the interpreter (default bash)').choices(SHELLS))
    .option('--run-as <user>', 'run as this user (the agent must run as root)')
    .option('--timeout <seconds>', 'kill a run after this long (default 120)', positiveInteger)
    .option('--ttl <seconds>', 'how long a run waits for an offline system (default 3600)', positiveInteger)
    .option('--select <expr>', 'default targets: a selector')
    .option('--group <name>', 'default targets: a group (repeatable)', collect, [] as string[])
    .option('--system <id>', 'default targets: a system id (repeatable, or comma-separated)', collect, [] as string[]);
}

/** `muster scripts add|list|show|edit|rm`. */
export function registerScripts(program: Command): void {
  const scripts = program.command('scripts').description('saved scripts: add, list, show, edit, rm; run one with `muster run --script NAME`');
  scriptOptions(connectionOptions(scripts.command('add')))
    .description('save a script, from --file or stdin')
    .requiredOption('--name <name>', 'a name unique in the organization')
    .option('--json', 'print the saved script as JSON')
    .action(
      action(async (flags: ScriptFlags & { json?: boolean }, command: Command) => {
        const content = await readContent(flags.file, true);
        if (content === undefined || content.trim() === '') throw usageError('no script: give --file PATH, or pipe it on stdin');
        const script = await clientFor(command).request<Script>('POST', '/v1/scripts', scriptBody(flags, content));
        if (flags.json) return outJson(script);
        out(`saved script ${script.name} (${script.id})`);
      }),
    );
  listCommand<Script>(scripts, {
    description: 'the saved scripts',
    noun: 'scripts',
    path: () => '/v1/scripts',
    table: scriptsTable,
    empty: 'no scripts yet: save one with `muster scripts add --name NAME --file PATH`',
  });
  connectionOptions(scripts.command('show <name>'))
    .description("print a script's content (or all of it as JSON)")
    .option('--json', 'print the script with its settings as JSON')
    .action(
      action(async (name: string, opts: { json?: boolean }, command: Command) => {
        const script = await resolve(clientFor(command), name);
        if (opts.json) return outJson(script);
        process.stdout.write(script.content.endsWith('\n') ? script.content : `${script.content}\n`);
      }),
    );
  registerChanges(scripts);
}

function registerChanges(scripts: Command): void {
  scriptOptions(connectionOptions(scripts.command('edit <name>')))
    .description('change a script: only the options given change; targets given replace the old ones')
    .option('--name <name>', 'rename it')
    .action(
      action(async (name: string, flags: ScriptFlags, command: Command) => {
        const body = scriptBody(flags, await readContent(flags.file, false));
        if (Object.keys(body).length === 0) throw usageError('nothing to change: give --file, --name, --shell, --run-as, --timeout, --ttl or targets');
        const client = clientFor(command);
        const script = await resolve(client, name);
        const updated = await client.request<Script>('PATCH', scriptPath(script.id), body);
        out(`updated script ${updated.name} (${Object.keys(body).join(', ')})`);
      }),
    );
  connectionOptions(scripts.command('rm <name>'))
    .description('delete a saved script (jobs launched from it keep their copy)')
    .action(
      action(async (name: string, _opts: unknown, command: Command) => {
        const client = clientFor(command);
        const script = await resolve(client, name);
        await client.request('DELETE', scriptPath(script.id));
        out(`deleted script ${script.name}`);
      }),
    );
}
