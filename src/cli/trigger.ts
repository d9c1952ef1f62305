import type { Command } from 'commander';
import type { Fired, SecretRotated, Trigger, TriggerCreated } from '../api/native/index.js';
import { ApiClient, CliError, errorMessage, NO_KEY_MESSAGE, usageError } from './client.js';
import { action, clientFor, configFor, connectionOptions, listCommand } from './context.js';
import { err, out, outJson, table } from './output.js';

/** Parses `--data`: a JSON object, or a usage error saying what is wrong. */
export function triggerData(data: string | undefined): Record<string, unknown> {
  if (data === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw usageError('--data must be JSON, like \'{"srcip":"10.0.0.1"}\'');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw usageError('--data must be a JSON object: its top-level keys become environment variables');
  return parsed as Record<string, unknown>;
}

/** POSTs a trigger call; raw, because an Idempotency-Key is a header. */
async function fire(command: Command, name: string, body: Record<string, unknown>, idempotencyKey: string | undefined): Promise<Fired> {
  const config = configFor(command);
  if (!config.api_key) throw usageError(NO_KEY_MESSAGE);
  const client = new ApiClient(config.server, config.api_key);
  const res = await client.raw(
    'POST',
    `/v1/triggers/${encodeURIComponent(name)}/fire`,
    body,
    idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    AbortSignal.timeout(30_000),
  );
  const text = await res.text();
  if (!res.ok) throw new CliError(errorMessage(res.status, text));
  return JSON.parse(text) as Fired;
}

/** `muster trigger NAME [--data JSON]` and `muster triggers list|create|rm|rotate-secret`. */
export function registerTrigger(program: Command): void {
  connectionOptions(program.command('trigger <name>'))
    .description('start every command with this trigger, each on its own systems; --data becomes their environment')
    .option('--data <json>', 'a JSON object; its top-level keys become environment variables')
    .option('--idempotency-key <key>', "the same key within 24 h returns the first call's jobs without launching again")
    .option('--json', 'print the answer as JSON')
    .action(
      action(async (name: string, opts: { data?: string; idempotencyKey?: string; json?: boolean }, command: Command) => {
        const res = await fire(command, name, triggerData(opts.data), opts.idempotencyKey);
        if (opts.json) return outJson(res);
        for (const j of res.jobs) out(`command ${j.command_id}: job ${j.job_id}`);
        for (const s of res.skipped) err(`command ${s.command_id} skipped: ${s.reason}`);
        if (res.replayed) err('(an earlier call with this idempotency key; nothing new launched)');
      }),
    );
  const triggers = program.command('triggers').description('named triggers and their secrets: list, create, rm, rotate-secret');
  listCommand<Trigger>(triggers, {
    description: 'the named triggers and whether each has a secret',
    noun: 'triggers',
    path: () => '/v1/triggers',
    table: (items) =>
      table(
        ['ID', 'NAME', 'SECRET'],
        items.map((t) => [t.id, t.name, t.has_secret ? 'yes' : 'no']),
      ),
    empty: 'no triggers',
  });
  connectionOptions(triggers.command('create <name>'))
    .option('--secret', 'create an HMAC secret so callers can fire it without an API key')
    .option('--json', 'print {trigger, secret} as JSON')
    .action(
      action(async (name: string, opts: { secret?: boolean; json?: boolean }, command: Command) => {
        const res = await clientFor(command).request<TriggerCreated>('POST', '/v1/triggers', { name, ...(opts.secret ? { secret: true } : {}) });
        if (opts.json) outJson(res);
        else out(res.secret ?? `created trigger ${name}`);
        if (res.secret)
          err(`created trigger ${name}. The secret is shown only once: sign calls with X-Muster-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`);
      }),
    );
  connectionOptions(triggers.command('rotate-secret <name>')).action(
    action(async (name: string, _opts: unknown, command: Command) => {
      out((await clientFor(command).request<SecretRotated>('POST', `/v1/triggers/${encodeURIComponent(name)}/rotate-secret`)).secret);
      err('the old secret no longer works; this one is shown only once');
    }),
  );
  connectionOptions(triggers.command('rm <name>')).action(
    action(async (name: string, _opts: unknown, command: Command) => {
      await clientFor(command).request('DELETE', `/v1/triggers/${encodeURIComponent(name)}`);
      out(`deleted trigger ${name}`);
    }),
  );
}
