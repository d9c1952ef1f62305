import type { Command } from 'commander';
import { SelfClient } from './self.js';

function collect(value: string, all: string[]): string[] {
  return [...all, value];
}

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

interface StateFlags {
  stateDir?: string;
  config?: string;
}

interface SetFlags extends StateFlags {
  displayName?: string;
  description?: string;
  tag: string[];
  attribute: string[];
}

/** `k=v` pairs → an object. */
function attributes(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i < 1) fail(`--attribute must be NAME=VALUE, not ${JSON.stringify(pair)}`);
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

/** The flags of a `set`, as a JumpCloud PUT body; tags replace the current ones when any is given. */
export function setBody(opts: SetFlags): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (opts.displayName !== undefined) body.displayName = opts.displayName;
  if (opts.description !== undefined) body.description = opts.description;
  if (opts.tag.length > 0) body.tags = opts.tag;
  if (opts.attribute.length > 0) body.attributes = attributes(opts.attribute);
  return body;
}

/**
 * `muster agent self|self set|join-group|leave-group|deregister`: the machine
 * manages its own record with its own key (System Context API), e.g. from
 * cloud-init on boot and a shutdown unit (contrib/systemd).
 */
export function registerSelfCommands(agent: Command, stateDir: (flags: StateFlags) => string): void {
  const withState = (c: Command) =>
    c.option('--state-dir <dir>', 'where agent.conf and client.key are kept').option('--config <file>', 'JSON config file (also MUSTER_AGENT_CONFIG)');
  const run =
    (fn: (client: SelfClient, ...rest: never[]) => Promise<void>) =>
    async (...args: unknown[]) => {
      const flags = args.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a) && !('commands' in (a as object))) as StateFlags;
      try {
        await fn(new SelfClient(stateDir(flags ?? {})), ...(args as never[]));
      } catch (err) {
        fail((err as Error).message);
      }
    };

  const self = withState(agent.command('self').description("print this system's own record (JSON)")).action(
    run(async (client) => {
      process.stdout.write(`${JSON.stringify(await client.get(), null, 2)}\n`);
    }),
  );
  withState(self.command('set').description("change this system's display name, description, tags or attributes"))
    .option('--display-name <name>', 'the display name')
    .option('--description <text>', 'free text about the system')
    .option('--tag <tag>', 'a tag (repeatable; replaces the current tags)', collect, [] as string[])
    .option('--attribute <name=value>', 'an attribute (repeatable; replaces the current attributes)', collect, [] as string[])
    .action(
      run(async (client, opts: SetFlags) => {
        const body = setBody(opts);
        if (Object.keys(body).length === 0) fail('nothing to set: give --display-name, --description, --tag or --attribute');
        process.stdout.write(`${JSON.stringify(await client.update(body), null, 2)}\n`);
      }),
    );
  for (const [name, op, verb] of [
    ['join-group', 'add', 'joined'],
    ['leave-group', 'remove', 'left'],
  ] as const) {
    withState(agent.command(`${name} <group>`).description(`${op === 'add' ? 'join' : 'leave'} a group, by name or id`)).action(
      run(async (client, group: string) => {
        await client.membership(group, op);
        process.stdout.write(`${verb} group ${group}\n`);
      }),
    );
  }
  withState(agent.command('deregister').description('delete this system from the server (e.g. at instance shutdown) and forget its identity'))
    .option('--keep-state', 'keep agent.conf and client.key in the state dir')
    .action(
      run(async (client, opts: { keepState?: boolean }) => {
        await client.deregister(Boolean(opts.keepState));
        process.stdout.write(`deregistered system ${client.identity.systemKey}\n`);
      }),
    );
}
