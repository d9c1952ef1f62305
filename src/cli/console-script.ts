import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseConsoleScript, type JumpRequest } from '../api/beyondtrust/console-script.js';
import type { OpenSessionBody } from '../api/native/index.js';
import { CliError } from './client.js';
import { action, connectionOptions } from './context.js';
import { jump } from './jump.js';

/** The session request of one command: its ticket when it has one (the ticket carries the rest), its criteria otherwise. */
export function commandBody(request: JumpRequest): OpenSessionBody {
  if (request.ticket) return { ticket: request.ticket };
  return {
    criteria: request.criteria,
    ...(Object.keys(request.custom).length ? { custom: request.custom } : {}),
    ...(request.runAs ? { run_as: request.runAs } : {}),
  };
}

/** `muster console-script FILE`: runs a BeyondTrust console script (BRCS1.0) as the desktop console would. */
export function registerConsoleScript(program: Command): void {
  connectionOptions(program.command('console-script <file>'))
    .description('run a console script (BRCS1.0, from /api/client_script): each command opens its session in turn, choosing when several systems match')
    .action(
      action(async (file: string, _opts: unknown, command: Command) => {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          throw new CliError(`cannot read ${file}: ${(err as Error).message}`, 2);
        }
        // Every command is checked before the first one runs.
        const parsed = parseConsoleScript(text);
        if (!parsed.ok) throw new CliError(`${file}: ${parsed.error}`, 2);
        for (const request of parsed.value) {
          await jump(command, commandBody(request));
        }
      }),
    );
}
