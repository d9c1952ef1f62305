import { InvalidArgumentError, type Command } from 'commander';
import type { SecretRotated, Webhook, WebhookCreated, WebhookDelivery, WebhookDeliveryList } from '../api/native/index.js';
import { action, clientFor, connectionOptions, listCommand } from './context.js';
import { ago, err, out, outJson, table } from './output.js';

const path = (id: string, rest = '') => `/v1/webhooks/${encodeURIComponent(id)}${rest}`;

/** `--events a,b`: the names, split on commas (the server says which are unknown). */
function eventList(value: string): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError('expected event names separated by commas, like job.completed,run.failed');
  return names;
}

function webhooksTable(items: readonly Webhook[]): string {
  return table(
    ['ID', 'URL', 'EVENTS', 'ENABLED', 'DESCRIPTION'],
    items.map((w) => [w.id, w.url, w.events.join(','), w.enabled ? 'yes' : 'no', w.description]),
  );
}

/** The delivery log: one line per delivery, then one indented line per attempt. */
export function deliveriesTable(items: readonly WebhookDelivery[], now = Date.now()): string {
  const rows = items.flatMap((d) => [
    [d.id, d.event, d.state, String(d.attempts), ago(d.created_at, now), d.last_status === null ? '-' : String(d.last_status)],
    ...d.attempt_log.map((a) => [`  #${a.seq}`, ago(a.started_at, now), `${a.duration_ms} ms`, a.status === null ? '-' : String(a.status), a.error ?? '', '']),
  ]);
  return table(['DELIVERY', 'EVENT', 'STATE', 'ATTEMPTS', 'CREATED', 'STATUS'], rows);
}

function showDelivery(d: WebhookDelivery, json: boolean | undefined, what: string): void {
  if (json) return outJson(d);
  out(`${what} ${d.id} (${d.event}), ${d.state}`);
}

interface ChangeOptions {
  url?: string;
  events?: string[];
  description?: string;
  enable?: boolean;
  disable?: boolean;
  json?: boolean;
}

/** --url, --events and --description: required to create, each optional to update. */
function fieldOptions(command: Command, required: boolean): Command {
  const option = required ? command.requiredOption.bind(command) : command.option.bind(command);
  option('--url <url>', 'http or https URL the events are POSTed to');
  option('--events <names>', 'comma-separated: job.completed, run.failed, system.enrolled, system.deleted, ingest.discarded', eventList);
  return command.option('--description <text>', 'what the webhook is for');
}

/** `muster webhooks list|create|show|update|delete|rotate-secret|ping|deliveries|redeliver`. */
export function registerWebhooks(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('outbound webhooks: list, create, show, update, delete, rotate-secret, ping, deliveries, redeliver (admin key)');
  listCommand<Webhook>(webhooks, {
    description: 'the webhooks and their events',
    noun: 'webhooks',
    path: () => '/v1/webhooks',
    table: webhooksTable,
    empty: 'no webhooks',
  });
  fieldOptions(connectionOptions(webhooks.command('create')).description('subscribe a URL to events; prints the signing secret, shown only once'), true)
    .option('--disable', 'create it disabled')
    .option('--json', 'print {webhook, secret} as JSON')
    .action(
      action(async (opts: ChangeOptions, command: Command) => {
        const body = {
          url: opts.url,
          events: opts.events,
          ...(opts.description !== undefined ? { description: opts.description } : {}),
          ...(opts.disable ? { enabled: false } : {}),
        };
        const res = await clientFor(command).request<WebhookCreated>('POST', '/v1/webhooks', body);
        if (opts.json) outJson(res);
        else out(res.secret);
        err(
          `created webhook ${res.webhook.id}. The signing secret is shown only once: verify X-Muster-Signature (t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">) with it`,
        );
      }),
    );
  connectionOptions(webhooks.command('show <id>'))
    .option('--json', 'print the webhook as JSON')
    .action(
      action(async (id: string, opts: { json?: boolean }, command: Command) => {
        const w = await clientFor(command).request<Webhook>('GET', path(id));
        if (opts.json) return outJson(w);
        out(webhooksTable([w]));
      }),
    );
  fieldOptions(connectionOptions(webhooks.command('update <id>')).description("change a webhook's URL, events, description, or enable or disable it"), false)
    .option('--enable', 'send events to it')
    .option('--disable', 'stop sending events to it')
    .option('--json', 'print the webhook as JSON')
    .action(
      action(async (id: string, opts: ChangeOptions, command: Command) => {
        const body = {
          ...(opts.url !== undefined ? { url: opts.url } : {}),
          ...(opts.events !== undefined ? { events: opts.events } : {}),
          ...(opts.description !== undefined ? { description: opts.description } : {}),
          ...(opts.enable ? { enabled: true } : opts.disable ? { enabled: false } : {}),
        };
        const w = await clientFor(command).request<Webhook>('PATCH', path(id), body);
        if (opts.json) return outJson(w);
        out(`updated webhook ${w.id}`);
      }),
    );
  connectionOptions(webhooks.command('delete <id>')).action(
    action(async (id: string, _opts: unknown, command: Command) => {
      await clientFor(command).request('DELETE', path(id));
      out(`deleted webhook ${id}`);
    }),
  );
  connectionOptions(webhooks.command('rotate-secret <id>')).action(
    action(async (id: string, _opts: unknown, command: Command) => {
      out((await clientFor(command).request<SecretRotated>('POST', path(id, '/rotate-secret'))).secret);
      err('later deliveries are signed with this secret only; it is shown only once');
    }),
  );
  connectionOptions(webhooks.command('ping <id>'))
    .description('queue a ping delivery to the webhook')
    .option('--json', 'print the delivery as JSON')
    .action(
      action(async (id: string, opts: { json?: boolean }, command: Command) =>
        showDelivery(await clientFor(command).request<WebhookDelivery>('POST', path(id, '/ping')), opts.json, 'queued ping'),
      ),
    );
  connectionOptions(webhooks.command('deliveries <id>'))
    .description("the webhook's delivery log, newest first, with each attempt")
    .option('--limit <n>', 'deliveries per page (1–200; 50 by default)')
    .option('--cursor <cursor>', "the previous page's next cursor")
    .option('--json', 'print the deliveries as a JSON array')
    .action(
      action(async (id: string, opts: { limit?: string; cursor?: string; json?: boolean }, command: Command) => {
        const q = new URLSearchParams({ ...(opts.limit ? { limit: opts.limit } : {}), ...(opts.cursor ? { cursor: opts.cursor } : {}) }).toString();
        const page = await clientFor(command).request<WebhookDeliveryList>('GET', path(id, `/deliveries${q ? `?${q}` : ''}`));
        if (opts.json) return outJson(page.items);
        out(page.items.length ? deliveriesTable(page.items) : 'no deliveries');
        if (page.next_cursor) err(`more: --cursor ${page.next_cursor}`);
      }),
    );
  connectionOptions(webhooks.command('redeliver <id> <delivery>'))
    .description('send a delivery again, with the same id and body')
    .option('--json', 'print the delivery as JSON')
    .action(
      action(async (id: string, delivery: string, opts: { json?: boolean }, command: Command) =>
        showDelivery(
          await clientFor(command).request<WebhookDelivery>('POST', path(id, `/deliveries/${encodeURIComponent(delivery)}/redeliver`)),
          opts.json,
          'queued delivery',
        ),
      ),
    );
}
