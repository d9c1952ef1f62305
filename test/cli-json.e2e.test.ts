import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_ENV, muster, musterDaemon, waitFor, type Proc } from './support/processes.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { readSse } from './support/sse.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

/** A command as `muster … --help` describes it. */
interface HelpPage {
  /** The words that name it: `['jobs', 'show']`. */
  path: string[];
  description: string;
  offersJson: boolean;
}

/** The lines of a help section (`Options:`, `Commands:`), up to the next blank line. */
function section(help: string, title: string): string[] {
  const start = help.indexOf(`\n${title}:\n`);
  if (start < 0) return [];
  const body = help.slice(start + title.length + 3);
  const end = body.indexOf('\n\n');
  return (end < 0 ? body : body.slice(0, end)).split('\n');
}

/** Parses one help page: its description, whether it offers --json, and its sub-commands (without `help`). */
function parseHelp(help: string): { description: string; offersJson: boolean; subcommands: string[] } {
  const description = (help.split('\n\n')[1] ?? '').replace(/\s+/g, ' ').trim();
  // An option's own line starts with two spaces; wrapped descriptions are indented further.
  const offersJson = section(help, 'Options').some((line) => /^ {2}(-\w, )?--json\b/.test(line));
  const subcommands = section(help, 'Commands')
    .map((line) => /^ {2}([\w-]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
  return { description, offersJson, subcommands };
}

/** Runs `fn` over `items`, at most `limit` at a time (each `--help` is a Node process; the machine has few cores). */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Every command of the real executable, found by reading `--help` from the root down, level by level. */
async function walkHelp(): Promise<HelpPage[]> {
  const pages: HelpPage[] = [];
  let level: string[][] = [[]];
  while (level.length > 0) {
    const parsed = await mapLimited(level, 4, async (path) => {
      const { code, stdout, stderr } = await muster([...path, '--help']);
      if (code !== 0) throw new Error(`muster ${path.join(' ')} --help exited ${code}: ${stderr}`);
      return { path, ...parseHelp(stdout) };
    });
    pages.push(...parsed.filter((p) => p.path.length > 0));
    level = parsed.flatMap((p) => p.subcommands.map((name) => [...p.path, name]));
  }
  return pages;
}

/** What the server holds before the commands run: one real agent and one of each thing a command can name. */
interface Fixtures {
  systemId: string;
  scriptFile: string;
  /** A job whose one run failed; retrying it succeeds (the first run leaves a marker file). */
  failedJobId: string;
  /** A shell session on the agent's system, opened and ended. */
  sessionId: string;
  /** A webhook, and its ping, delivered. */
  webhookId: string;
  deliveryId: string;
}

/** One invocation of a `--json` command: its arguments, and what its JSON must show. */
interface Invocation {
  args: (f: Fixtures) => string[];
  shows: (value: any, f: Fixtures) => void;
}

const names = (items: Array<{ name: string }>) => items.map((i) => i.name);

/**
 * The arguments each `--json` command needs. The help walk, not this table,
 * decides what is tested: a command that offers --json and is missing here
 * fails the first test.
 */
const INVOCATIONS: Record<string, Invocation[]> = {
  systems: [{ args: () => [], shows: (v, f) => expect(v.map((s: { id: string }) => s.id)).toEqual([f.systemId]) }],
  'groups list': [{ args: () => [], shows: (v) => expect(names(v)).toEqual(['json-group']) }],
  'groups members': [{ args: () => ['json-group'], shows: (v, f) => expect(v).toEqual([f.systemId]) }],
  'users list': [{ args: () => [], shows: (v) => expect(v.map((u: { username: string }) => u.username)).toEqual(['json-user']) }],
  run: [
    { args: () => ['--all', '--', 'echo hello'], shows: (v) => expect(v).toMatchObject([{ state: 'succeeded', exit_code: 0, stdout: 'hello\n' }]) },
    {
      args: () => ['--all', '--detach', '--', 'true'],
      shows: (v, f) => expect(v).toMatchObject({ job: { id: expect.any(String), total: 1 }, runs: [{ system_id: f.systemId }] }),
    },
  ],
  'scripts add': [
    { args: (f) => ['--name', 'json-added', '--file', f.scriptFile], shows: (v) => expect(v).toMatchObject({ name: 'json-added', content: 'echo saved\n' }) },
  ],
  'scripts list': [{ args: () => [], shows: (v) => expect(names(v)).toContain('json-script') }],
  'scripts show': [{ args: () => ['json-script'], shows: (v) => expect(v).toMatchObject({ name: 'json-script', content: 'echo script' }) }],
  'commands list': [{ args: () => [], shows: (v) => expect(names(v)).toContain('json-command') }],
  'commands results': [
    { args: () => ['json-command'], shows: (v, f) => expect(v[0]).toMatchObject({ system_id: f.systemId, state: 'succeeded', stdout: 'command\n' }) },
  ],
  'commands run': [
    { args: () => ['json-command'], shows: (v) => expect(v).toMatchObject([{ state: 'succeeded', stdout: 'command\n' }]) },
    { args: () => ['json-command', '--detach'], shows: (v) => expect(v).toMatchObject({ job: { id: expect.any(String) }, runs: [expect.any(Object)] }) },
  ],
  trigger: [
    { args: () => ['json-trigger'], shows: (v) => expect(v).toMatchObject({ triggered: [expect.any(String)], jobs: [expect.any(Object)], replayed: false }) },
  ],
  'triggers list': [{ args: () => [], shows: (v) => expect(names(v)).toContain('json-trigger') }],
  'triggers create': [
    {
      args: () => ['json-created', '--secret'],
      shows: (v) => expect(v).toMatchObject({ trigger: { name: 'json-created', has_secret: true }, secret: expect.stringMatching(/^mts_/) }),
    },
  ],
  'jobs list': [{ args: () => [], shows: (v, f) => expect(v.map((j: { id: string }) => j.id)).toContain(f.failedJobId) }],
  'jobs show': [
    { args: (f) => [f.failedJobId], shows: (v, f) => expect(v).toMatchObject({ job: { id: f.failedJobId }, runs: [{ state: 'failed', exit_code: 3 }] }) },
  ],
  'jobs retry': [
    { args: (f) => [f.failedJobId], shows: (v) => expect(v).toMatchObject([{ state: 'succeeded' }]) },
    { args: (f) => [f.failedJobId, '--detach'], shows: (v, f) => expect(v).toMatchObject({ job: { retry_of: f.failedJobId }, runs: [expect.any(Object)] }) },
  ],
  'keys list': [{ args: () => [], shows: (v) => expect(v.length).toBeGreaterThan(0) }],
  'keys create': [
    {
      args: () => ['--name', 'json-key', '--role', 'viewer'],
      shows: (v) => expect(v).toMatchObject({ key: { name: 'json-key', role: 'viewer' }, secret: expect.any(String) }),
    },
  ],
  'enrollment-keys list': [{ args: () => [], shows: (v) => expect(v.length).toBeGreaterThan(0) }],
  'enrollment-keys create': [
    { args: () => ['--name', 'json-enroll'], shows: (v) => expect(v).toMatchObject({ key: { name: 'json-enroll' }, secret: expect.any(String) }) },
  ],
  'sessions list': [{ args: () => [], shows: (v, f) => expect(v).toMatchObject([{ id: f.sessionId, system_id: f.systemId, state: 'ended' }]) }],
  'sessions show': [{ args: (f) => [f.sessionId], shows: (v, f) => expect(v).toMatchObject({ id: f.sessionId, state: 'ended', end_reason: 'ended_by_user' }) }],
  'pdb discarded': [{ args: () => [], shows: (v) => expect(v).toEqual([]) }],
  'webhooks list': [{ args: () => [], shows: (v, f) => expect(v.map((w: { id: string }) => w.id)).toEqual([f.webhookId]) }],
  'webhooks create': [
    {
      args: () => ['--url', 'https://hooks.example.com/json', '--events', 'run.failed'],
      shows: (v) =>
        expect(v).toMatchObject({ webhook: { url: 'https://hooks.example.com/json', events: ['run.failed'] }, secret: expect.stringMatching(/^mws_/) }),
    },
  ],
  'webhooks show': [{ args: (f) => [f.webhookId], shows: (v, f) => expect(v).toMatchObject({ id: f.webhookId, events: ['job.completed'] }) }],
  'webhooks update': [
    { args: (f) => [f.webhookId, '--description', 'json'], shows: (v, f) => expect(v).toMatchObject({ id: f.webhookId, description: 'json' }) },
  ],
  'webhooks ping': [{ args: (f) => [f.webhookId], shows: (v, f) => expect(v).toMatchObject({ webhook_id: f.webhookId, event: 'ping', state: 'pending' }) }],
  'webhooks deliveries': [{ args: (f) => [f.webhookId], shows: (v, f) => expect(v.map((d: { id: string }) => d.id)).toContain(f.deliveryId) }],
  'webhooks redeliver': [{ args: (f) => [f.webhookId, f.deliveryId], shows: (v, f) => expect(v).toMatchObject({ id: f.deliveryId, state: 'pending' }) }],
  audit: [
    {
      args: () => ['--action', 'group.create'],
      shows: (v) => expect(v).toMatchObject([{ action: 'group.create', target_type: 'group', details: { name: 'json-group' }, source_ip: '127.0.0.1' }]),
    },
  ],
};

/** A listing, by its name or its help's first word: it must offer --json. */
const isListing = (p: HelpPage) => p.path.at(-1) === 'list' || /^list\b/i.test(p.description);

/**
 * Every `--json` command of the built executable, against a real server and
 * a real agent running real shells. SQLite only: what the CLI prints does not
 * depend on the database, which the storage suites cover on both.
 */
describe('muster … --json', () => {
  let s: TestServer;
  let agent: Proc;
  let env: Record<string, string>;
  let fixtures: Fixtures;
  let pages: HelpPage[];
  let receiver: WebhookReceiver;

  /** Resolves once the job's event stream says it ended. */
  const ended = async (jobId: string) => {
    await readSse(`${s.url}/v1/jobs/${jobId}/events`, { authorization: `Bearer ${s.adminKey}` }, (e) => e.event === 'end');
  };

  /** Starts the agent and creates what the commands name. */
  const createFixtures = async (): Promise<Fixtures> => {
    const stateDir = mkdtempSync(join(tmpdir(), 'muster-agent-'));
    const enrolled = await muster(['agent', 'enroll', '--server', s.url, '--enrollment-key', s.enrollmentKey, '--state-dir', stateDir]);
    if (enrolled.code !== 0) throw new Error(`enroll failed: ${enrolled.stderr}`);
    // Runs for a system wait until its agent connects, so nothing needs to wait for the connection.
    agent = musterDaemon(['agent', 'run', '--state-dir', stateDir], AGENT_ENV(stateDir));
    const admin = (method: string, path: string, body?: unknown) => call(s.url, s.adminKey, method, path, body);
    const systemId = (await admin('GET', '/v1/systems')).body.items[0].id as string;
    const group = (await admin('POST', '/v1/groups', { name: 'json-group' })).body;
    await admin('POST', `/v1/groups/${group.id}/members`, { system_id: systemId });
    await admin('POST', '/v1/users', { username: 'json-user' });
    await admin('POST', '/v1/scripts', { name: 'json-script', content: 'echo script' });
    await admin('POST', '/v1/triggers', { name: 'json-trigger' });
    await admin('POST', '/v1/commands', {
      name: 'json-command',
      content: 'echo command',
      launch_type: 'trigger',
      trigger: 'json-trigger',
      default_targets: { system_ids: [systemId] },
    });
    await ended((await admin('POST', '/v1/commands/json-command/run', {})).body.job.id);
    const marker = join(stateDir, 'retry-marker');
    const failed = (await admin('POST', '/v1/jobs', { content: `test -e ${marker} || { touch ${marker}; exit 3; }`, targets: { all: true } })).body.job
      .id as string;
    await ended(failed);
    // The agent is connected now (its runs ended): a session opens at once.
    const sessionId = (await admin('POST', '/v1/sessions', { system_id: systemId })).body.id as string;
    await admin('POST', `/v1/sessions/${sessionId}/end`);
    const scriptFile = join(stateDir, 'saved.sh');
    writeFileSync(scriptFile, 'echo saved\n');
    receiver = await WebhookReceiver.start();
    const webhookId = (await admin('POST', '/v1/webhooks', { url: receiver.url('/json'), events: ['job.completed'] })).body.webhook.id as string;
    const deliveryId = (await admin('POST', `/v1/webhooks/${webhookId}/ping`)).body.id as string;
    await receiver.next((r) => r.json?.id === deliveryId);
    // Delivered in the log too, so redelivering it is never refused as in flight.
    await waitFor(async () => (await admin('GET', `/v1/webhooks/${webhookId}/deliveries`)).body.items[0]?.state === 'delivered', 'the ping to be logged');
    return { systemId, scriptFile, failedJobId: failed, sessionId, webhookId, deliveryId };
  };

  beforeAll(async () => {
    s = await startTestServer('sqlite');
    env = { MUSTER_SERVER: s.url, MUSTER_API_KEY: s.adminKey, MUSTER_CLI_CONFIG: join(mkdtempSync(join(tmpdir(), 'muster-cli-')), 'cli.json') };
    [pages, fixtures] = await Promise.all([walkHelp(), createFixtures()]);
  }, 90_000);

  afterAll(async () => {
    await agent?.stop();
    await s?.stop();
    await receiver?.stop();
  });

  it('has arguments for exactly the commands whose --help offers --json, and every listing offers it', () => {
    const offering = pages.filter((p) => p.offersJson).map((p) => p.path.join(' '));
    expect
      .soft(
        offering.filter((c) => !(c in INVOCATIONS)),
        'commands offering --json with no entry in INVOCATIONS',
      )
      .toEqual([]);
    expect
      .soft(
        Object.keys(INVOCATIONS).filter((c) => !offering.includes(c)),
        'INVOCATIONS entries for commands without --json',
      )
      .toEqual([]);
    expect
      .soft(
        pages.filter((p) => isListing(p) && !p.offersJson).map((p) => p.path.join(' ')),
        'listings without --json',
      )
      .toEqual([]);
    // The walk reached the sub-commands, not just the top level.
    expect(offering).toEqual(expect.arrayContaining(['jobs retry', 'enrollment-keys create', 'commands results']));
  });

  it.each(Object.keys(INVOCATIONS))('muster %s --json prints JSON', async (name) => {
    for (const invocation of INVOCATIONS[name]!) {
      const args = [...name.split(' '), ...invocation.args(fixtures), '--json'];
      // `--json` after `--` would be part of the command: put it before.
      const dashes = args.indexOf('--');
      if (dashes >= 0) args.splice(dashes, 0, args.pop()!);
      const { code, stdout, stderr } = await muster(args, env);
      expect(code, `muster ${args.join(' ')} exited ${code}: ${stderr}`).toBe(0);
      let value: unknown;
      expect(() => (value = JSON.parse(stdout)), `stdout of muster ${args.join(' ')} is not JSON: ${JSON.stringify(stdout)}`).not.toThrow();
      invocation.shows(value, fixtures);
    }
  });
});
