/**
 * BeyondTrust's console script files and `start_jump_item_session`
 * parameters, shared by the face that generates scripts and the CLI that
 * runs them. A file is `BRCS1.0`, then at most 10 commands, one a line, each
 * RFC 3986 percent-encoded `key=value` pairs joined by `&`, the first being
 * `action=…`.
 */
export const CONSOLE_SCRIPT_HEADER = 'BRCS1.0';
export const MAX_COMMANDS = 10;
export const JUMP_ACTION = 'start_jump_item_session';
/** The ticket muster adds to a generated command. */
export const TICKET_PARAM = 'muster.ticket';

/** The reference's Jump methods that mean "a shell through the agent" here. */
const SHELL_METHODS = ['shell', 'pinned', 'local_push', 'push', 'shelljump'];
/** The reference's methods muster does not have. */
const OTHER_METHODS = ['rdp', 'vnc'];
const CRITERIA: Record<string, string> = {
  'client.hostname': 'hostname',
  'client.comments': 'comments',
  'client.tag': 'tag',
  'client.private_ip': 'private_ip',
  'client.public_ip': 'public_ip',
  search_string: 'search',
};
const CUSTOM_PREFIX = 'session.custom.';

/** A `start_jump_item_session` request, in muster's words. */
export interface JumpRequest {
  criteria: Record<string, string>;
  custom: Record<string, string>;
  /** `credential_id`: the system user the shell runs as. */
  runAs: string | null;
  ticket: string | null;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; field: string; error: string };

/** RFC 3986 percent-encoding: encodeURIComponent leaves !'()* alone, the RFC reserves them. */
export function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** One command line from its pairs, in order. */
export function encodeCommand(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
}

/**
 * The parameters of `start_jump_item_session` (everything but type,
 * operation and action): criteria (at least one), custom fields, the
 * credential, the method, muster's ticket. Unknown names are refused.
 */
export function jumpRequest(params: Readonly<Record<string, string>>): Parsed<JumpRequest> {
  const value: JumpRequest = { criteria: {}, custom: {}, runAs: null, ticket: null };
  for (const [key, v] of Object.entries(params)) {
    if (key in CRITERIA) {
      if (v.length > 255) return { ok: false, field: key, error: `${key}: must be at most 255 characters` };
      if (v !== '') value.criteria[CRITERIA[key]!] = v;
    } else if (key.startsWith(CUSTOM_PREFIX) && key.length > CUSTOM_PREFIX.length) value.custom[key.slice(CUSTOM_PREFIX.length)] = v;
    else if (key === 'credential_id') value.runAs = v === '' ? null : v;
    else if (key === TICKET_PARAM) value.ticket = v;
    else if (key === 'jump.method') {
      if (OTHER_METHODS.includes(v))
        return { ok: false, field: key, error: `jump.method: ${v} is not available: muster opens shells through its agent (${SHELL_METHODS.join(', ')})` };
      if (!SHELL_METHODS.includes(v))
        return {
          ok: false,
          field: key,
          error: `jump.method: unknown method ${JSON.stringify(v)} (muster's is shell; ${SHELL_METHODS.slice(1).join(', ')} mean the same)`,
        };
    } else return { ok: false, field: key, error: `${key}: is not a parameter of ${JUMP_ACTION}` };
  }
  if (Object.keys(value.criteria).length === 0) return { ok: false, field: 'client', error: 'give at least one client.* criterion or search_string' };
  return { ok: true, value };
}

/** Splits one command line into its pairs; a bad encoding or a pair without `=` is an error. */
function decodeCommand(line: string, n: number): Parsed<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const pair of line.split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 1) return { ok: false, field: `command ${n}`, error: `command ${n}: ${JSON.stringify(pair.slice(0, 40))} is not key=value` };
    try {
      const key = decodeURIComponent(pair.slice(0, eq));
      if (key in out) return { ok: false, field: `command ${n}`, error: `command ${n}: ${key} is given twice` };
      out[key] = decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return { ok: false, field: `command ${n}`, error: `command ${n}: bad percent-encoding in ${JSON.stringify(pair.slice(0, 40))}` };
    }
  }
  return { ok: true, value: out };
}

/** A console script's commands, each checked; the whole file is refused when any part is bad, before anything runs. */
export function parseConsoleScript(text: string): Parsed<JumpRequest[]> {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  if (lines[0] !== CONSOLE_SCRIPT_HEADER) return { ok: false, field: 'header', error: `not a console script: the first line must be ${CONSOLE_SCRIPT_HEADER}` };
  const commands = lines.slice(1);
  if (commands.length === 0) return { ok: false, field: 'commands', error: 'the console script has no commands' };
  if (commands.length > MAX_COMMANDS)
    return { ok: false, field: 'commands', error: `the console script has ${commands.length} commands; at most ${MAX_COMMANDS}` };
  const requests: JumpRequest[] = [];
  for (const [i, line] of commands.entries()) {
    const decoded = decodeCommand(line, i + 1);
    if (!decoded.ok) return decoded;
    const { action, ...params } = decoded.value;
    if (action !== JUMP_ACTION)
      return {
        ok: false,
        field: `command ${i + 1}`,
        error: `command ${i + 1}: action ${JSON.stringify(action ?? '')} is not supported (muster runs ${JUMP_ACTION})`,
      };
    const request = jumpRequest(params);
    if (!request.ok) return { ok: false, field: request.field, error: `command ${i + 1}: ${request.error}` };
    requests.push(request.value);
  }
  return { ok: true, value: requests };
}
