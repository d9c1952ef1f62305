import { Option, type Command } from 'commander';
import { SHELLS, type Job, type Launched } from '../api/native/index.js';
import { collect, commandLine, countOrPercent, parseEnvPairs, positiveInteger } from './args.js';
import { usageError, type ApiClient } from './client.js';
import { action, clientFor, connectionOptions } from './context.js';
import { out, outJson } from './output.js';
import { summary } from './run-report.js';
import { EventsUnsupported } from './sse.js';
import { streamJob } from './stream-job.js';
import { pollJob, printGrouped, processSinks, runsWithOutput, type Sinks } from './watch.js';

/** `muster run`'s options as commander parses them. */
export interface RunFlags {
  system: string[];
  group: string[];
  select?: string;
  all?: boolean;
  shell?: string;
  timeout?: number;
  ttl?: number;
  maxConcurrency?: number | string;
  maxErrors?: number | string;
  runAs?: string;
  env: string[];
  script?: string;
  detach?: boolean;
  json?: boolean;
}

/**
 * The POST /v1/jobs body for `muster run` words and flags; no target or a bad `--env` is a usage error.
 * With `--script NAME` the saved script runs (its content frozen at launch) and targets may be left to its defaults.
 */
export function launchBody(words: readonly string[], flags: RunFlags): Record<string, unknown> {
  const targets: Record<string, unknown> = {};
  const ids = flags.system
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length) targets.system_ids = ids;
  if (flags.group.length) targets.group_ids = flags.group;
  if (flags.select) targets.selector = flags.select;
  if (flags.all) targets.all = true;
  if (flags.script !== undefined && words.length > 0) throw usageError('give either --script NAME or a command after --, not both');
  if (Object.keys(targets).length === 0 && flags.script === undefined)
    throw usageError('choose the systems: --system ID, --group NAME, --select EXPR or --all');
  const body: Record<string, unknown> = flags.script === undefined ? { content: commandLine(words) } : { script: flags.script };
  if (body.content !== undefined && String(body.content).trim() === '')
    throw usageError(words.length ? 'the command after -- is empty' : 'give a command after --, or --script NAME');
  if (Object.keys(targets).length > 0) body.targets = targets;
  const env = parseEnvPairs(flags.env);
  if (Object.keys(env).length) body.env = env;
  const optional: Record<string, unknown> = {
    shell: flags.shell,
    timeout_s: flags.timeout,
    ttl_s: flags.ttl,
    run_as: flags.runAs,
    max_concurrency: flags.maxConcurrency,
    max_errors: flags.maxErrors,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) body[key] = value;
  return body;
}

/**
 * Waits for a job just created and reports it: streamed lines (or, when the
 * server cannot stream, one block per system at the end) and a summary line;
 * with `json`, the final runs with their output. Returns the final job.
 */
export async function followJob(client: ApiClient, created: Launched, json: boolean, sinks: Sinks = processSinks()): Promise<Job> {
  const id = created.job.id;
  let job: Job;
  if (json) {
    job = await pollJob(client, id, sinks);
    sinks.stdout(`${JSON.stringify(await runsWithOutput(client, id), null, 2)}\n`);
    return job;
  }
  try {
    job = await streamJob(
      client,
      created.job,
      created.runs.map((r) => r.hostname),
      sinks,
    );
  } catch (e) {
    if (!(e instanceof EventsUnsupported)) throw e;
    job = await pollJob(client, id, sinks);
    printGrouped(await runsWithOutput(client, id), sinks);
  }
  sinks.stdout(`${summary(job)}\n`);
  return job;
}

/**
 * Runs `wait` with Ctrl-C meaning "stop watching": the job goes on on the
 * server, so its id is printed to look at later, and the CLI exits 130.
 */
export async function interruptible<T>(jobId: string, sinks: Sinks, wait: () => Promise<T>): Promise<T> {
  const onSigint = () => {
    sinks.progress.clear();
    sinks.stderr(`\nstopped waiting; job ${jobId} goes on. See it with \`muster jobs show ${jobId}\`, stop it with \`muster jobs cancel ${jobId}\`\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSigint);
  try {
    return await wait();
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/**
 * What a detached launch prints: the job id alone, for `$(muster run --detach …)`;
 * with `json`, the job and its runs as the server created them.
 */
export function printDetached(created: Launched, json: boolean): void {
  if (json) outJson(created);
  else out(created.job.id);
}

/** Exit code 1 unless every run of the job succeeded. */
export function failedExit(job: Pick<Job, 'total' | 'counts'>): void {
  if ((job.counts.succeeded ?? 0) !== job.total) process.exitCode = 1;
}

/** `muster run (--system ID… | --group G | --select EXPR | --all) [options] (-- COMMAND… | --script NAME)`. */
export function registerRun(program: Command): void {
  connectionOptions(program.command('run'))
    .description("run a command on systems and show each one's output; exits 1 unless all succeeded")
    .option('--system <id>', 'a system id (repeatable, or comma-separated)', collect, [] as string[])
    .option('--group <name>', 'a group name or id (repeatable)', collect, [] as string[])
    .option('--select <expr>', 'a selector, e.g. "tag:web and not hostname:canary"')
    .option('--all', 'every system of the organization')
    .addOption(new Option('--shell <shell>', 'the interpreter (default bash)').choices(SHELLS))
    .option('--timeout <seconds>', 'kill the command after this long (server default 120)', positiveInteger)
    .option('--ttl <seconds>', 'how long a run waits for an offline system (server default 3600)', positiveInteger)
    .option('--max-concurrency <n|%>', 'at most this many systems at once', countOrPercent)
    .option('--max-errors <n|%>', 'start no more runs once more than this many failed', countOrPercent)
    .option('--run-as <user>', 'run as this user (the agent must run as root)')
    .option('--env <NAME=VALUE>', 'an environment variable for the command (repeatable)', collect, [] as string[])
    .option('--script <name>', 'run a saved script (by name or id); its settings and default targets apply unless given')
    .option('--detach', 'print the job id and return at once')
    .option('--json', 'print the final runs, with their output, as JSON (with --detach, {job, runs} as launched)')
    .argument('[command...]', "the command, after --; one word is taken as-is (-- 'echo $HOME'), several are quoted and joined")
    .action(
      action(async (words: string[], flags: RunFlags, command: Command) => {
        const body = launchBody(words, flags);
        const client = clientFor(command);
        const created = await client.request<Launched>('POST', '/v1/jobs', body);
        if (flags.detach) return printDetached(created, Boolean(flags.json));
        const sinks = processSinks();
        failedExit(await interruptible(created.job.id, sinks, () => followJob(client, created, Boolean(flags.json), sinks)));
      }),
    );
}
