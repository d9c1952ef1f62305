/**
 * The commands the ingest queue accepts (PuppetDB's names and versions) and
 * the short kind used in dead-letter file names.
 */
export const COMMANDS = {
  'configure expiration': { min: 1, max: 1, kind: 'set-expire' },
  'deactivate node': { min: 3, max: 3, kind: 'rm-node' },
  'replace catalog': { min: 6, max: 9, kind: 'catalog' },
  'replace catalog inputs': { min: 1, max: 1, kind: 'inputs' },
  'replace facts': { min: 4, max: 5, kind: 'facts' },
  'store report': { min: 5, max: 8, kind: 'report' },
} as const;

export type CommandName = keyof typeof COMMANDS;

/** The command names, sorted (as PuppetDB lists them). */
export const COMMAND_NAMES = Object.keys(COMMANDS).sort() as CommandName[];

/** True when `name` is one of the command names (spaces, not underscores). */
export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.hasOwn(COMMANDS, name);
}

/** The sentence that lists the valid command names. */
export const COMMAND_LIST = `Command must be one of: ${COMMAND_NAMES.join(', ')}.`;

/** `"name"` or `nil`, as PuppetDB quotes names in its messages. */
export function quoted(value: string | undefined | null): string {
  return value === undefined || value === null ? 'nil' : JSON.stringify(value);
}
