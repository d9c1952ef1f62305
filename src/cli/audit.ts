import { once } from 'node:events';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { AuditEvent, AuditList } from '../api/native/index.js';
import { positiveInteger } from './args.js';
import { CliError, errorMessage } from './client.js';
import { action, clientFor, connectionOptions } from './context.js';
import { err, out, outJson, ProgressLine, table } from './output.js';

interface AuditOptions {
  actor?: string;
  action?: string;
  target?: string;
  since?: string;
  until?: string;
  requestId?: string;
  limit?: number;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** commander parser for --since/--until: an RFC 3339 instant, or an age like `30m`, `24h`, `7d` (that long ago). */
export function instantOrAge(value: string, now = Date.now()): string {
  const age = /^(\d{1,6})([smhd])$/.exec(value.trim());
  if (age) return new Date(now - Number(age[1]) * UNITS[age[2]!]!).toISOString();
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('expected a date-time like 2026-01-31T12:00:00Z or an age like 24h or 7d');
  return value;
}

/** The query string of the filters (`--target TYPE[:ID]` is target_type and target_id). */
export function auditQuery(opts: AuditOptions): string {
  const q = new URLSearchParams();
  if (opts.actor) q.set('actor', opts.actor);
  if (opts.action) q.set('action', opts.action);
  if (opts.target) {
    const i = opts.target.indexOf(':');
    q.set('target_type', i < 0 ? opts.target : opts.target.slice(0, i));
    if (i >= 0) q.set('target_id', opts.target.slice(i + 1));
  }
  if (opts.since) q.set('since', opts.since);
  if (opts.until) q.set('until', opts.until);
  if (opts.requestId) q.set('request_id', opts.requestId);
  if (opts.limit !== undefined) q.set('limit', String(opts.limit));
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** The audit table: TIME, ACTOR, ACTION, TARGET, SOURCE, REQUEST. */
export function auditTable(items: readonly AuditEvent[]): string {
  return table(
    ['TIME', 'ACTOR', 'ACTION', 'TARGET', 'SOURCE', 'REQUEST'],
    items.map((e) => [e.at, e.actor, e.action, `${e.target_type}:${e.target_id}`, e.source_ip ?? '-', e.request_id ?? '-']),
  );
}

function filters(command: Command, limitHelp: string): Command {
  return connectionOptions(command)
    .option('--actor <actor>', 'only this actor, e.g. api_key:<id>, system:<id>, anonymous')
    .option('--action <action>', 'only this action, or a prefix ending in . or * (job., session.*)')
    .option('--target <type[:id]>', 'only this target type, or one target (job:<id>)')
    .option('--since <when>', 'at or after: a date-time, or an age like 24h or 7d', (v) => instantOrAge(v))
    .option('--until <when>', 'before: a date-time, or an age like 1h', (v) => instantOrAge(v))
    .option('--request-id <id>', 'only the events of one request')
    .option('--limit <n>', limitHelp, positiveInteger);
}

/** Streams the export to stdout as it arrives (backpressure kept), counting lines on a progress line. */
async function streamExport(res: Response, progress: ProgressLine): Promise<number> {
  let lines = 0;
  let shown = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (const byte of chunk) if (byte === 10) lines++;
    if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    // A terminal sees the count climb; a pipe or file sees only the summary.
    if (lines - shown >= 1000) {
      progress.show(`exported ${lines} events…`);
      shown = lines;
    }
  }
  return lines;
}

/** `muster audit [filters] [--json]` and `muster audit export [filters] > file.jsonl` (admin keys). */
export function registerAudit(program: Command): void {
  const audit = filters(program.command('audit'), 'how many, newest first (default 50, at most 1000)')
    .description("the organization's audit log, newest first (admin); `export` for all of it as JSON lines")
    .option('--json', 'print the events as a JSON array')
    .action(
      action(async (opts: AuditOptions & { json?: boolean }, command: Command) => {
        const page = await clientFor(command).request<AuditList>('GET', `/v1/audit${auditQuery({ limit: 50, ...opts })}`);
        if (opts.json) return outJson(page.items);
        out(page.items.length ? auditTable(page.items) : 'no audit events match');
        if (page.next_cursor) err(`(newest ${page.items.length} shown: narrow the filters, raise --limit, or use \`muster audit export\`)`);
      }),
    );
  filters(audit.command('export'), 'at most this many events (default: all)')
    .description('every matching audit event as JSON lines on stdout, newest first; progress on stderr')
    .action(
      action(async (_opts: AuditOptions, command: Command) => {
        const client = clientFor(command);
        // The filters are the parent's options too, and commander gives them to whichever command it parsed them for.
        const opts = command.optsWithGlobals() as AuditOptions;
        const res = await client.raw('GET', `/v1/audit/export${auditQuery(opts)}`, undefined, { accept: 'application/x-ndjson' });
        if (!res.ok) throw new CliError(errorMessage(res.status, await res.text()));
        const progress = new ProgressLine();
        let lines: number;
        try {
          lines = await streamExport(res, progress);
        } catch (e) {
          progress.clear();
          throw new CliError(`the export was cut off: ${(e as Error).message}; what was written is incomplete`);
        }
        progress.clear();
        err(`exported ${lines} audit event${lines === 1 ? '' : 's'}`);
      }),
    );
}
