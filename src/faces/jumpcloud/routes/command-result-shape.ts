import type { CommandResultRecord, CommandResultSummary, ResultSortField } from '../../../core/commands/index.js';
import { ROOT_USER } from './command-shape.js';

/** JumpCloud's result fields a listing sorts on, with their core names. */
export const JC_RESULT_SORT_FIELDS: Record<string, ResultSortField> = {
  _id: 'runId',
  id: 'runId',
  workflowId: 'commandId',
  name: 'commandName',
  systemId: 'systemId',
  system: 'hostname',
  exitCode: 'exitCode',
  requestTime: 'createdAt',
  responseTime: 'finishedAt',
};

/**
 * A command result as JumpCloud lists it: its list model has `exitCode` at the
 * top and no `response`, so a listing neither reads nor misstates output
 * (GET /api/commandresults/{id} has it). `exitCode` is -1 when the run has
 * none (it timed out, was cancelled or never reached its system).
 */
export function commandResultListItem(r: CommandResultSummary) {
  return {
    _id: r.runId,
    id: r.runId,
    command: r.content,
    name: r.commandName,
    workflowId: r.commandId,
    workflowInstanceId: r.jobId,
    system: r.hostname,
    systemId: r.systemId,
    organization: r.organizationId,
    user: r.runAs ?? ROOT_USER,
    sudo: false,
    // muster delivers no files with commands: JumpCloud's empty list.
    files: [] as string[],
    requestTime: r.createdAt,
    responseTime: r.finishedAt,
    exitCode: r.exitCode ?? -1,
  };
}

/** One command result with its output: stdout, then stderr. */
export function commandResultView(r: CommandResultRecord) {
  const output = r.stderr ? `${r.stdout}${r.stdout && !r.stdout.endsWith('\n') ? '\n' : ''}${r.stderr}` : r.stdout;
  return {
    ...commandResultListItem(r),
    response: {
      id: r.runId,
      data: { output, exitCode: r.exitCode ?? -1 },
      error: r.state === 'succeeded' ? '' : (r.reason ?? r.state),
    },
  };
}
