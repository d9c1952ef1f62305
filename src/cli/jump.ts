import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { AmbiguousSession, OpenSessionBody, Session, SessionCandidate, SessionCriteria } from '../api/native/index.js';
import { collect, positiveInteger } from './args.js';
import { ApiClient, CliError, errorMessage, NO_KEY_MESSAGE, usageError } from './client.js';
import { action, configFor, connectionOptions } from './context.js';
import { err, table } from './output.js';
import { attachTerminal } from './session-terminal.js';

/** The chooser's table: one numbered row per candidate. */
export function candidatesTable(candidates: readonly SessionCandidate[]): string {
  return table(
    ['#', 'NAME', 'HOSTNAME', 'TAGS', 'COMMENTS', 'PRIVATE IP', 'PUBLIC IP', 'ONLINE'],
    candidates.map((c, i) => [
      String(i + 1),
      c.name,
      c.hostname,
      c.tags.join(','),
      c.comments,
      c.private_ips.join(','),
      c.public_ip ?? '',
      c.connected ? 'yes' : 'no',
    ]),
  );
}

/** Asks which candidate to open (on stderr, reading a line from stdin); a blank answer or end of input cancels. */
async function choose(candidates: readonly SessionCandidate[]): Promise<SessionCandidate> {
  err(`${candidates.length} systems match:`);
  err(candidatesTable(candidates));
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  try {
    for (;;) {
      process.stderr.write(`open which one? [1-${candidates.length}, empty to cancel] `);
      const answer = await new Promise<string | undefined>((resolve) => {
        rl.once('line', resolve);
        rl.once('close', () => resolve(undefined));
      });
      if (answer === undefined || answer.trim() === '') throw new CliError('cancelled: no system chosen');
      const n = Number(answer.trim());
      if (Number.isInteger(n) && n >= 1 && n <= candidates.length) return candidates[n - 1]!;
      err(`not a choice: ${answer.trim()}`);
    }
  } finally {
    rl.close();
  }
}

/** Opens a session (choosing when several systems match), attaches this terminal, and sets the exit code to the shell's. */
export async function jump(command: Command, body: OpenSessionBody): Promise<void> {
  const config = configFor(command);
  if (!config.api_key) throw usageError(NO_KEY_MESSAGE);
  const client = new ApiClient(config.server, config.api_key);
  const size = process.stdout.isTTY ? { cols: process.stdout.columns, rows: process.stdout.rows } : {};
  let res = await client.raw('POST', '/v1/sessions', { ...body, ...size });
  let text = await res.text();
  const candidates = res.status === 409 ? (JSON.parse(text) as AmbiguousSession).error.candidates : undefined;
  if (candidates) {
    const chosen = await choose(candidates);
    res = await client.raw('POST', '/v1/sessions', { ...body, ...size, system_id: chosen.id });
    text = await res.text();
  }
  if (res.status !== 201) throw new CliError(errorMessage(res.status, text));
  const session = JSON.parse(text) as Session;
  err(`muster: session ${session.id} on system ${session.system_id}${session.run_as ? ` as ${session.run_as}` : ''}; exit the shell to end it`);
  const end = await attachTerminal(client.server, config.api_key, session.id);
  err(`\r\nmuster: ${end.message}`);
  process.exitCode = end.exitCode;
}

/** Repeated `--custom CODE=VALUE`; a pair without a field code is a usage error. */
export function parseCustom(pairs: readonly string[]): Record<string, string> {
  const custom: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i < 1) throw usageError(`--custom ${JSON.stringify(pair)}: expected CODE=VALUE`);
    custom[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return custom;
}

interface JumpOptions {
  hostname?: string;
  tag?: string;
  comments?: string;
  privateIp?: string;
  publicIp?: string;
  search?: string;
  system?: string;
  as?: string;
  custom: string[];
  idleTimeout?: number;
}

/** `muster jump`: a shell on the system the criteria name. */
export function registerJump(program: Command): void {
  connectionOptions(program.command('jump'))
    .description('open an interactive shell on a system found by criteria (partial, case-insensitive, all must hold); choose when several match')
    .option('--hostname <text>', 'the hostname contains this')
    .option('--tag <text>', 'a tag contains this')
    .option('--comments <text>', 'the comments contain this')
    .option('--private-ip <text>', 'a private address contains this')
    .option('--public-ip <text>', 'the public address contains this')
    .option('--search <text>', 'any of those, or the name, contains this')
    .option('--system <id>', 'the system by id')
    .option('--as <user>', 'the system user the shell runs as')
    .option('--custom <key=value>', 'a custom field (repeatable)', collect, [])
    .option('--idle-timeout <seconds>', 'end the session after this long without input', positiveInteger)
    .action(
      action(async (opts: JumpOptions, command: Command) => {
        const criteria: SessionCriteria = JSON.parse(
          JSON.stringify({
            hostname: opts.hostname,
            tag: opts.tag,
            comments: opts.comments,
            private_ip: opts.privateIp,
            public_ip: opts.publicIp,
            search: opts.search,
          }),
        );
        const named = Object.keys(criteria).length > 0;
        if (!named && !opts.system) throw usageError('name the system: --hostname, --tag, --comments, --private-ip, --public-ip, --search or --system');
        const body: OpenSessionBody = {
          ...(named ? { criteria } : {}),
          ...(opts.system ? { system_id: opts.system } : {}),
          ...(opts.as ? { run_as: opts.as } : {}),
          ...(opts.custom.length ? { custom: parseCustom(opts.custom) } : {}),
          ...(opts.idleTimeout ? { idle_timeout_s: opts.idleTimeout } : {}),
        };
        await jump(command, body);
      }),
    );
}
