import type { Command } from 'commander';
import { registerAudit } from './audit.js';
import { registerGroups } from './groups.js';
import { registerJobs } from './jobs.js';
import { registerJump } from './jump.js';
import { registerConsoleScript } from './console-script.js';
import { registerKeys } from './keys.js';
import { registerLogin } from './login.js';
import { registerPdb } from './pdb.js';
import { registerRun } from './run.js';
import { registerCommands } from './saved-commands.js';
import { registerScripts } from './scripts.js';
import { registerSessions } from './sessions.js';
import { registerStart } from './start.js';
import { registerSystems } from './systems.js';
import { registerTrigger } from './trigger.js';
import { registerUsers } from './users.js';
import { registerWebhooks } from './webhooks.js';

/**
 * Adds the operator's verbs to the root program: login, systems, run, jobs,
 * logs, keys, enrollment-keys and start. Each takes --server/--api-key
 * (over MUSTER_SERVER/MUSTER_API_KEY, over the `muster login` file); exit
 * codes are 0 ok, 1 failure, 2 usage or config error.
 */
export function registerCliCommands(program: Command): void {
  registerLogin(program);
  registerSystems(program);
  registerGroups(program);
  registerUsers(program);
  registerRun(program);
  registerScripts(program);
  registerCommands(program);
  registerTrigger(program);
  registerJobs(program);
  registerKeys(program);
  registerPdb(program);
  registerJump(program);
  registerConsoleScript(program);
  registerSessions(program);
  registerWebhooks(program);
  registerAudit(program);
  registerStart(program);
}
