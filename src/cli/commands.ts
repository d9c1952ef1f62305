import type { Command } from 'commander';
import { registerJobs } from './jobs.js';
import { registerKeys } from './keys.js';
import { registerLogin } from './login.js';
import { registerRun } from './run.js';
import { registerStart } from './start.js';
import { registerSystems } from './systems.js';

/**
 * Adds the operator's verbs to the root program: login, systems, run, jobs,
 * logs, keys, enrollment-keys and start. Each takes --server/--api-key
 * (over MUSTER_SERVER/MUSTER_API_KEY, over the `muster login` file); exit
 * codes are 0 ok, 1 failure, 2 usage or config error.
 */
export function registerCliCommands(program: Command): void {
  registerLogin(program);
  registerSystems(program);
  registerRun(program);
  registerJobs(program);
  registerKeys(program);
  registerStart(program);
}
