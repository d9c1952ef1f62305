import { envNameProblem } from '../lib/env-policy.js';

/**
 * Names the agent decides for every script, taken from its own environment
 * (or from `run_as`'s account): a job's environment is applied before them,
 * so even a name that slipped past the deny list cannot replace them.
 */
export const AGENT_OWNED_NAMES: readonly string[] = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL'];

/** A script's environment, or why the agent refuses to run it. */
export type ScriptEnvironment = { ok: true; env: Record<string, string> } | { ok: false; error: string };

/**
 * Builds a script's whole environment: the agent's own, then the job's, then
 * the names the agent owns and the `MUSTER_*` it sets. The server already
 * refuses a launch whose environment holds a variable that changes how a
 * script runs; the agent checks again (a job stored by an older server, a
 * server that was tampered with) and refuses the run, naming the first such
 * variable and the reason, rather than start the script with it.
 */
export function scriptEnvironment(agentEnv: Record<string, string>, jobEnv: Record<string, string>, musterEnv: Record<string, string>): ScriptEnvironment {
  for (const name of Object.keys(jobEnv).sort()) {
    const problem = envNameProblem(name);
    if (problem) return { ok: false, error: `the agent refused to run this script: its environment sets ${name}: ${problem}` };
  }
  const owned: Record<string, string> = {};
  for (const name of AGENT_OWNED_NAMES) if (agentEnv[name] !== undefined) owned[name] = agentEnv[name];
  return { ok: true, env: { ...agentEnv, ...jobEnv, ...owned, ...musterEnv } };
}
