import { Command } from 'commander';
import { registerAgentCommands } from './agent/commands.js';
import { registerCliCommands } from './cli/commands.js';
import { registerServerCommand } from './server-command.js';
import { VERSION } from './version.js';

/** The `muster` executable: server, agent and operator CLI in one. */
const program = new Command('muster')
  .version(VERSION)
  .description('muster: run commands and scripts on fleets of machines')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 1 && err.code.startsWith('commander.') ? 2 : err.exitCode));

registerServerCommand(program);
registerAgentCommands(program);
registerCliCommands(program);

await program.parseAsync(process.argv);
