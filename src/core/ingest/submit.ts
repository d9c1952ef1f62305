import { MusterError } from '../errors.js';
import { uuidV7 } from '../ids.js';
import { COMMAND_LIST, COMMANDS, isCommandName, quoted, type CommandName } from './commands.js';
import { jsonDepth, MAX_PAYLOAD_DEPTH, tooDeepMessage } from './depth.js';
import type { IngestCommandRecord } from './types.js';
import { sha1 } from './wire.js';

/** A command as submitted, before any check. */
export interface SubmitInput {
  /** The name with spaces (faces turn `replace_facts` into `replace facts`). */
  command: string | undefined;
  version: string | number | undefined;
  /** The certname the submitter names apart from the payload; undefined when only the payload has one. */
  certname: string | undefined;
  /** The payload as JSON text. */
  payload: string;
  /** SHA-1 (hex) the submitter computed; verified when present. */
  checksum?: string | undefined;
  /** Another text the checksum may cover (the whole body of an all-in-one submission). */
  checksummedBody?: string | undefined;
  producerTimestamp?: string | undefined;
  /** The submission form names the certname apart from the payload, so it must be there. */
  certnameRequired?: boolean;
}

function bad(message: string): MusterError {
  return new MusterError('INVALID_ARGUMENT', message);
}

function checkVersion(command: CommandName, version: string | number | undefined): number {
  const n = typeof version === 'number' ? version : typeof version === 'string' && /^\s*-?\d+\s*$/.test(version) ? Number(version) : NaN;
  if (!Number.isSafeInteger(n)) throw bad('Version must be a valid integer.');
  const { min, max } = COMMANDS[command];
  if (n < min) throw bad(`Version ${n} of command ${quoted(command)} is retired. The minimum supported version is ${min}.`);
  if (n > max) throw bad(`Version ${n} of command ${quoted(command)} is not supported. The maximum supported version is ${max}.`);
  return n;
}

function parsePayload(prefix: string, text: string): unknown {
  // Measured before parsing: a parsed tree this deep would overflow the stack of whatever walks it next.
  if (jsonDepth(text, MAX_PAYLOAD_DEPTH) > MAX_PAYLOAD_DEPTH) throw bad(`${prefix}${tooDeepMessage()}`);
  if (text.trim() === '') throw bad(`${prefix}The request body is empty: it must be the command's JSON payload.`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw bad(`${prefix}The payload is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Puppet's terminus signs the envelope it would have sent in the all-in-one
 * form, so a checksum may cover the body or that envelope.
 */
function checksumMatches(input: SubmitInput, command: CommandName, version: number, certname: string): boolean {
  const sum = input.checksum!.trim().toLowerCase();
  const envelope = `{"command":${JSON.stringify(command)},"version":${version},"certname":${JSON.stringify(certname)},"payload":${input.payload}}`;
  return [input.payload, envelope, input.checksummedBody].some((t) => t !== undefined && sha1(t) === sum);
}

function producerTimestampOf(payload: unknown, fallback: string | undefined): string | null {
  const from = (typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>).producer_timestamp : undefined) ?? fallback;
  const ms = typeof from === 'string' ? Date.parse(from) : NaN;
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * Checks everything that can be decided without processing (name, version,
 * certname, JSON and its nesting depth, checksum) and builds the queue
 * record, returned with the parsed payload. INVALID_ARGUMENT messages are
 * PuppetDB's where PuppetDB has one.
 */
export function admit(organizationId: string, input: SubmitInput, receivedAt: string): { record: IngestCommandRecord; parsed: unknown } {
  const name = input.command;
  if (!isCommandName(name)) {
    throw bad(
      name === undefined
        ? `Command nil for certname ${quoted(input.certname)} is invalid. Command is missing required parameters: command.`
        : `Command ${quoted(name)} for certname ${quoted(input.certname)} is invalid. ${COMMAND_LIST}`,
    );
  }
  if (input.certnameRequired && input.certname === undefined)
    throw bad(`Command ${quoted(name)} for certname nil is invalid. Command is missing required parameters: certname.`);
  const version = checkVersion(name, input.version);
  const payload = parsePayload(`Command ${quoted(name)} for certname ${quoted(input.certname)} is invalid. `, input.payload);
  const inPayload = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>).certname : undefined;
  const certname = input.certname ?? (typeof inPayload === 'string' ? inPayload : undefined);
  if (certname === undefined) throw bad(`Command ${quoted(name)} for certname nil is invalid. Command is missing required parameters: certname.`);
  if (certname === '') throw bad(`Command ${quoted(name)} for certname "" is invalid. Certname must be a non-empty string.`);
  if (typeof inPayload === 'string' && inPayload !== certname)
    throw bad(`certname parameter ${quoted(certname)} does not match payload certname ${quoted(inPayload)}`);
  if (input.checksum !== undefined && !checksumMatches(input, name, version, certname)) {
    throw bad(
      `Command ${quoted(name)} for certname ${quoted(certname)} is invalid. The checksum does not match the SHA-1 of the payload (or of the signed command).`,
    );
  }
  const record: IngestCommandRecord = {
    id: uuidV7(),
    organizationId,
    command: name,
    version,
    certname,
    producerTimestamp: producerTimestampOf(payload, input.producerTimestamp),
    payload: input.payload,
    receivedAt,
    state: 'queued',
    attempts: 0,
    availableAt: receivedAt,
    leaseUntil: null,
    error: null,
    diagnostics: null,
    processedAt: null,
  };
  return { record, parsed: payload };
}
