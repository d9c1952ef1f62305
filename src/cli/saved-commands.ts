import { Option, type Command } from 'commander';
import { LAUNCH_TYPES, type Command as SavedCommand, type CommandResult, type CommandResults, type Launched } from '../api/native/index.js';
import { collect, positiveInteger } from './args.js';
import { usageError, type ApiClient } from './client.js';
import { action, clientFor, connectionOptions, listCommand } from './context.js';
import { ago, out, outJson, table } from './output.js';
import { failedExit, followJob, interruptible, printDetached } from './run.js';
import { readContent, scriptBody, scriptOptions, type ScriptFlags } from './scripts.js';
import { processSinks } from './watch.js';

interface CommandFlags extends ScriptFlags {
  launchType?: string;
  trigger?: string;
  schedule?: string;
  timezone?: string;
  runAt?: string;
  runOnEnroll?: boolean;
}

/** The POST/PATCH body of `commands add|edit`: the script fields plus the launch settings given. */
export function commandBody(flags: CommandFlags, content: string | undefined): Record<string, unknown> {
  const body = scriptBody(flags, content);
  const extra: Record<string, unknown> = {
    launch_type: flags.launchType,
    trigger: flags.trigger,
    schedule: flags.schedule,
    timezone: flags.timezone,
    run_at: flags.runAt,
    run_on_enroll: flags.runOnEnroll,
  };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) body[key] = value;
  return body;
}

/** How a command starts, in one short cell. */
export function launchCell(c: SavedCommand): string {
  if (c.launch_type === 'trigger') return `trigger ${c.trigger}`;
  if (c.launch_type === 'repeated') return `cron ${c.schedule}${c.timezone && c.timezone !== 'UTC' ? ` ${c.timezone}` : ''}`;
  if (c.launch_type === 'one-time') return `once ${c.run_at}`;
  return 'manual';
}

/** The commands table: ID, NAME, LAUNCH, ON ENROLL, NEXT FIRE. */
export function commandsTable(items: readonly SavedCommand[]): string {
  return table(
    ['ID', 'NAME', 'LAUNCH', 'ON ENROLL', 'NEXT FIRE'],
    items.map((c) => [c.id, c.name, launchCell(c), c.run_on_enroll ? 'yes' : 'no', c.next_fire_at ?? '-']),
  );
}

/** The results table: RUN, JOB, HOSTNAME, STATE, EXIT, FINISHED. */
export function resultsTable(items: readonly CommandResult[], now = Date.now()): string {
  return table(
    ['RUN', 'JOB', 'HOSTNAME', 'STATE', 'EXIT', 'FINISHED'],
    items.map((r) => [r.run_id, r.job_id, r.hostname, r.state, r.exit_code === null ? '-' : String(r.exit_code), ago(r.finished_at, now)]),
  );
}

const path = (idOrName: string) => `/v1/commands/${encodeURIComponent(idOrName)}`;

function launchOptions(command: Command): Command {
  return scriptOptions(command)
    .addOption(new Option('--launch-type <type>', 'how it starts').choices(LAUNCH_TYPES))
    .option('--trigger <name>', 'the trigger name that starts it (launch type trigger)')
    .option('--schedule <cron>', 'cron, 5 fields or 6 with seconds first (launch type repeated)')
    .option('--timezone <zone>', 'the time zone of the schedule (default UTC)')
    .option('--run-at <instant>', 'ISO-8601 instant (launch type one-time)')
    .option('--run-on-enroll', 'also run on each newly enrolled system its targets cover')
    .option('--no-run-on-enroll', 'do not run on enrollment');
}

/** `muster commands add|list|show|edit|rm|run|results`. */
export function registerCommands(program: Command): void {
  const commands = program.command('commands').description('commands: saved scripts with a trigger, a schedule or run-on-enroll');
  launchOptions(connectionOptions(commands.command('add')))
    .description('save a command, its script from --file or stdin')
    .requiredOption('--name <name>', 'a name unique in the organization')
    .action(
      action(async (flags: CommandFlags, command: Command) => {
        const content = await readContent(flags.file, true);
        if (content === undefined || content.trim() === '') throw usageError('no script: give --file PATH, or pipe it on stdin');
        const saved = await clientFor(command).request<SavedCommand>('POST', '/v1/commands', commandBody(flags, content));
        out(`saved command ${saved.name} (${saved.id}): ${launchCell(saved)}`);
      }),
    );
  listCommand<SavedCommand>(commands, {
    description: 'the saved commands and how each starts',
    noun: 'commands',
    path: () => '/v1/commands',
    table: commandsTable,
    empty: 'no commands yet',
  });
  connectionOptions(commands.command('show <name>'))
    .description('a command with its settings, as JSON')
    .action(action(async (name: string, _opts: unknown, command: Command) => outJson(await clientFor(command).request<SavedCommand>('GET', path(name)))));
  connectionOptions(commands.command('results <name>'))
    .description("list a command's ended runs, newest first")
    .option('--limit <n>', 'how many', positiveInteger, 20)
    .option('--json', 'print the results, with their output, as JSON')
    .action(
      action(async (name: string, opts: { limit: number; json?: boolean }, command: Command) => {
        const { items } = await clientFor(command).request<CommandResults>('GET', `${path(name)}/results?limit=${opts.limit}`);
        if (opts.json) return outJson(items);
        out(items.length ? resultsTable(items) : 'no results yet');
      }),
    );
  registerChanges(commands);
}

function registerChanges(commands: Command): void {
  launchOptions(connectionOptions(commands.command('edit <name>')))
    .description('change a command: only the options given change')
    .option('--name <name>', 'rename it')
    .action(
      action(async (name: string, flags: CommandFlags, command: Command) => {
        const body = commandBody(flags, await readContent(flags.file, false));
        if (Object.keys(body).length === 0) throw usageError('nothing to change');
        const updated = await clientFor(command).request<SavedCommand>('PATCH', path(name), body);
        out(`updated command ${updated.name}: ${launchCell(updated)}`);
      }),
    );
  connectionOptions(commands.command('rm <name>')).action(
    action(async (name: string, _opts: unknown, command: Command) => {
      await clientFor(command).request('DELETE', path(name));
      out(`deleted command ${name}`);
    }),
  );
  connectionOptions(commands.command('run <name>'))
    .description('run a command now, on its targets or --system; exits 1 unless all succeeded')
    .option('--system <id>', 'run on this system instead (repeatable)', collect, [] as string[])
    .option('--detach', 'print the job id and return')
    .option('--json', 'print the final runs, with their output, as JSON (with --detach, {job, runs} as launched)')
    .action(
      action(async (name: string, opts: { system: string[]; detach?: boolean; json?: boolean }, command: Command) => {
        const client: ApiClient = clientFor(command);
        const created = await client.request<Launched>('POST', `${path(name)}/run`, opts.system.length ? { system_ids: opts.system } : {});
        if (opts.detach) return printDetached(created, Boolean(opts.json));
        const sinks = processSinks();
        failedExit(await interruptible(created.job.id, sinks, () => followJob(client, created, Boolean(opts.json), sinks)));
      }),
    );
}
